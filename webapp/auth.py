"""Logging in and out, the login manager, password rules and the create-user command."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from webapp.forms import EmailAddress
from webapp.models import ROLES, SERVICES, AuditEvent, SecurityEvent, Throttle, User, database
from webapp.passwords import password_problem
from webapp.timeutil import utcnow
from webapp.twofactor import after_password

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

MAX_FAILURES_PER_ACCOUNT = 5
ACCOUNT_LOCK = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 20
ADDRESS_WINDOW = dt.timedelta(minutes=15)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[DataRequired(_l("Vul je e-mailadres in.")), EmailAddress(), Length(max=254)],
    )
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(_l("Vul je wachtwoord in.")), Length(max=200)]
    )


def address_key() -> str:
    return "login-ip:" + hashlib.sha256((request.remote_addr or "").encode()).hexdigest()[:40]


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


@bp.post("/login")
def login_post() -> str | Response | tuple[str, int]:
    """Check the e-mail address and password, slowing down repeated failures."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, error=None), 400
    if Throttle.count_for(address_key(), ADDRESS_WINDOW) >= MAX_FAILURES_PER_ADDRESS:
        SecurityEvent.record("login-throttled")
        return render_template(
            "auth/login.html",
            form=form,
            error=_l("Te veel pogingen. Probeer het over een kwartier opnieuw."),
        ), 429
    user = User.by_email(form.email.data or "")
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        SecurityEvent.record("login-throttled", user)
        return render_template(
            "auth/login.html",
            form=form,
            error=_l("Te veel pogingen. Probeer het over een kwartier opnieuw."),
        ), 429
    if user is None or not user.active or not user.check_password(form.password.data or ""):
        Throttle.hit(address_key(), ADDRESS_WINDOW)
        SecurityEvent.record("login-failed", user)
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES_PER_ACCOUNT:
                user.locked_until, user.failed_logins = now + ACCOUNT_LOCK, 0
                SecurityEvent.record("account-locked", user)
            user.save()
        return render_template(
            "auth/login.html",
            form=form,
            error=_l("Dit e-mailadres en wachtwoord horen niet bij elkaar."),
        ), 401
    user.failed_logins, user.locked_until = 0, None
    user.save()
    target = request.args.get("next")
    # The login session starts only after the second factor (webapp/twofactor.py).
    return after_password(user, target if is_safe_next(target) else None)


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


def _unauthorized() -> Response:
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request") == "true":
        # htmx would swap the login page into a fragment: send the whole browser there.
        response = make_response("", 401)
        current = urlsplit(request.headers.get("HX-Current-URL", "")).path or None
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
@click.option("--name", required=True, help="Voor- en achternaam")
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
