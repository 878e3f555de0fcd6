"""Logging in and out, the login manager, password rules and the create-user command."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, logout_user
from flask_wtf import FlaskForm
from htmx_flask import request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from webapp.forms import EmailAddress
from webapp.models import ROLES, SERVICES, AuditEvent, SecurityEvent, Throttle, User, database
from webapp.passwords import password_problem
from webapp.security import address_key
from webapp.twofactor import after_password

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

MAX_FAILURES_PER_ACCOUNT = 5
ACCOUNT_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 20
ADDRESS_WINDOW = dt.timedelta(minutes=15)
# A device a person logged in on before keeps working while someone else guesses at their
# account from elsewhere: a signed cookie, only sent to /login, names who logged in on it.
KNOWN_DEVICE_COOKIE = "vrijbaan_device"
KNOWN_DEVICE_AGE = dt.timedelta(days=180)
KNOWN_DEVICE_PEOPLE = 10  # a shared office computer


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[DataRequired(_l("Vul je e-mailadres in.")), EmailAddress(), Length(max=254)],
    )
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(_l("Vul je wachtwoord in.")), Length(max=200)]
    )


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="known-device")


def known_device_people() -> list[int]:
    """The ids of the team members who logged in on this device before."""
    value = request.cookies.get(KNOWN_DEVICE_COOKIE, "")
    try:
        ids = _devices().loads(value, max_age=int(KNOWN_DEVICE_AGE.total_seconds()))
    except BadData:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def remember_device(response: Response, user: User) -> Response:
    """Mark this device as one that user logged in on (see login_post)."""
    people = [user.id, *(i for i in known_device_people() if i != user.id)]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        _devices().dumps(people[:KNOWN_DEVICE_PEOPLE]),
        max_age=int(KNOWN_DEVICE_AGE.total_seconds()),
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def login_attempt_keys(user: User | None, email: str) -> list[tuple[str, int, dt.timedelta]]:
    """The counters a login attempt is counted on, with their limits. From a device the
    person logged in on before: only that device's own counter, so that someone guessing at
    the account from elsewhere does not lock the right password out. From any other device:
    the address and the e-mail address (with or without an account: the same answers)."""
    if user is not None and user.id in known_device_people():
        return [(f"login-device:{user.id}", MAX_FAILURES_PER_ACCOUNT, ACCOUNT_WINDOW)]
    return [
        (address_key("login"), MAX_FAILURES_PER_ADDRESS, ADDRESS_WINDOW),
        (User.login_throttle_key(email), MAX_FAILURES_PER_ACCOUNT, ACCOUNT_WINDOW),
    ]


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site may follow a login."""
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target


@bp.get("/login")
def login() -> str | Response:
    """The login page."""
    if current_user.is_authenticated:
        return redirect(url_for("today.index"))
    return render_template("auth/login.html", form=LoginForm(), error=None)


def _refused(form: LoginForm, status: int) -> tuple[str, int]:
    """The one answer to a refused login, whatever the reason (401) or to too many (429)."""
    if status == 429:
        error = _l("Te veel pogingen. Probeer het over een kwartier opnieuw.")
    else:
        error = _l("Dit e-mailadres en wachtwoord horen niet bij elkaar.")
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/login")
def login_post() -> str | Response | tuple[str, int]:
    """Check the e-mail address and password. Every attempt is counted first (atomically, so
    parallel attempts cannot pass the limit) and given back when it succeeds; an unknown
    address, a closed account and a wrong password cost the same time and get the same answer."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, error=None), 400
    email = form.email.data or ""
    user = User.by_email(email)
    counted = []
    account_failures = 0
    for key, limit, window in login_attempt_keys(user, email):
        counted.append(key)
        hits = Throttle.hit(key, window)
        if hits > limit:
            SecurityEvent.record("login-throttled", user)
            return _refused(form, 429)
        if key == User.login_throttle_key(email):
            account_failures = hits
    if not User.password_opens(user, form.password.data or "") or user is None:
        SecurityEvent.record("login-failed", user)
        if user is not None and account_failures == MAX_FAILURES_PER_ACCOUNT:
            SecurityEvent.record("account-locked", user)  # the next try is refused
        return _refused(form, 401)
    for key in counted:
        if key == User.login_throttle_key(email):
            Throttle.clear(key)  # the right password from a new device: a fresh start
        else:
            Throttle.give_back(key)
    # Nothing of the user row is written back: a deactivation or password reset made while
    # the password was being checked stays (the login session is a row of its own). The login
    # session starts only after the second factor (webapp/twofactor.py).
    target = request.args.get("next")
    response = after_password(user, target if is_safe_next(target) else None)
    if response is None:  # deactivated or given a new password while this login ran
        return _refused(form, 401)
    return response


@bp.post("/logout")
@login_required
def logout() -> Response:
    """End the session and clear what the browser holds of this site."""
    user = current_user._get_current_object()
    AuditEvent.record("logout", user)
    user.end_session()
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"), 303)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


def coordinator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The one guard of a coordinator's page: log in first, then 403 for anyone else. Honest
    rather than 'not found': the address of a coordinator page is no secret, and a mediator who
    follows one learns only that it is not theirs. On a view, or on a blueprint's
    before_request hook for an area that is the coordinator's throughout."""

    @functools.wraps(view)
    @login_required
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_coordinator:
            abort(403, description=_("Deze pagina is voor de coördinatoren van het team."))
        return view(*args, **kwargs)

    guarded.coordinators_only = True  # type: ignore[attr-defined]  # read by tests/test_access
    return guarded


def _unauthorized() -> Response:
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.htmx:
        # htmx would swap the login page into a fragment: send the whole browser there.
        response = make_response("", 401)
        current = urlsplit(request.htmx.current_url or "").path or None
        response.headers["HX-Redirect"] = url_for("auth.login", next=current)
        return response
    return redirect(target)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(User.from_session_id)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = "basic"
    app.cli.add_command(create_user_command)
    app.cli.add_command(set_password_command)


def read_password(name: str, email: str) -> str:
    """The new password, asked twice and hidden; from standard input when it is not a terminal.
    Refused when it is short, common, or holds the person's name or e-mail address."""
    if sys.stdin.isatty():
        password = click.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Nog eens")
    else:
        first = sys.stdin.readline().rstrip("\n")
        second = sys.stdin.readline().rstrip("\n")
        if first != second:
            raise click.ClickException("De twee wachtwoorden verschillen.")
        password = first
    with force_locale("nl"):  # the command line speaks Dutch, as its other messages do
        problem = password_problem(password, name, email)
    if problem:
        raise click.ClickException(problem)
    return password


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="Voor- en familienaam")
@click.option("--role", type=click.Choice(list(ROLES)), default="mediator", show_default=True)
@click.option("--service", type=click.Choice(list(SERVICES)), default="ocmw", show_default=True)
def create_user_command(email: str, name: str, role: str, service: str) -> None:
    """Create a team member; the password is asked twice, hidden."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.ClickException("Dit is geen e-mailadres.")
    with database.connection_context():
        if User.by_email(email):
            raise click.ClickException(f"Er is al een gebruiker met {email}.")
        password = read_password(name, email)
        user = User(email=email, name=name.strip(), role=role, service=service)
        user.set_password(password)
        user.save()
    click.echo(f"Gebruiker {email} ({role}) aangemaakt.")


@click.command("set-password")
@with_appcontext
@click.argument("email")
def set_password_command(email: str) -> None:
    """Give a team member a new password (asked twice, hidden) and log them out everywhere; for
    when nobody who could do it on the Gebruikers screen can log in."""
    with database.connection_context():
        user = User.by_email(email)
        if user is None:
            raise click.ClickException(f"Er is geen gebruiker met {email.strip().lower()}.")
        password = read_password(user.name, user.email)
        with database.atomic():
            user.replace_password(password)
            user.end_sessions()
            AuditEvent.record("password-reset", user, user=None)
    click.echo(f"Nieuw wachtwoord voor {user.email}; overal afgemeld.")
