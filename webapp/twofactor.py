"""The second step of logging in (a code from the authenticator app, or a recovery code), and
"Bevestig dat jij het bent": the password or a code asked again before grave actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from webapp.forms import max_length
from webapp.htmx import redirect_to
from webapp.models import (
    AuditEvent,
    LoginSession,
    RecoveryCode,
    SecondFactor,
    SecurityEvent,
    Throttle,
    User,
    second_factor_required,
)
from webapp.timeutil import utcnow

bp = Blueprint("twofactor", __name__, url_prefix="/twofactor")

PENDING_FOR = dt.timedelta(minutes=5)  # between the password and the code
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = dt.timedelta(minutes=15)
REAUTH_AFTER = dt.timedelta(minutes=10)
CONFIRM_FIELD = "confirm_secret"
# What a person who still has to set up their second factor may open meanwhile.
ALLOWED_BEFORE_SET_UP = {
    "account.second_factor",
    "account.second_factor_enable",
    "auth.logout",
    "auth.login",
    "twofactor.confirm",
    "twofactor.confirm_post",
    "static",
}
TOO_MANY = _l("Te veel pogingen. Probeer het over een kwartier opnieuw.")


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Vul de code in.")), max_length(20)],
    )
    own_device = BooleanField(_l("Dit is mijn eigen toestel: hou me langer aangemeld"))


class ConfirmForm(FlaskForm):
    confirm_secret = PasswordField(
        _l("Wachtwoord"),
        validators=[DataRequired(_l("Vul je wachtwoord of een code in.")), max_length(200)],
    )


def _wrong_code_key(user_id: int) -> str:
    return f"second-factor:{user_id}"


def finish_login(user: User, next_url: str | None, second_factor: bool, own_device: bool) -> Any:
    """Start the login session (after every factor the person needs) and go on; None when the
    account was deactivated or given a new password while the login ran."""
    from webapp.auth import remember_device  # noqa: PLC0415  (auth imports this module)

    session.clear()
    user.start_session(second_factor=second_factor, own_device=own_device)
    if not user.login_key:
        return None
    login_user(user)
    AuditEvent.record("login", user, user=user)
    if not second_factor and second_factor_required(user):
        # They must set it up first: the guard below keeps them there until it is done.
        response = redirect(url_for("account.second_factor", next=next_url), 303)
    else:
        response = redirect(next_url or url_for("today.index"), 303)
    return remember_device(response, user)


def after_password(user: User, next_url: str | None) -> Any:
    """The password was right: ask the code when the person has an app, else log them in."""
    if SecondFactor.of(user) is None:
        return finish_login(user, next_url, second_factor=False, own_device=False)
    session.clear()
    # Only the user's id and the time travel to the code step, in the signed cookie.
    session["pending_login"] = {"user": user.id, "at": utcnow().isoformat(), "next": next_url}
    return redirect(url_for("twofactor.code"), 303)


def _pending_user() -> User | None:
    pending = session.get("pending_login")
    if not isinstance(pending, dict):
        return None
    try:
        at = dt.datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if at < utcnow() - PENDING_FOR:
        return None
    return User.get_or_none(User.id == pending.get("user"), User.active == True)  # noqa: E712


def _code_page(form: CodeForm, status: int = 200, error: Any = None) -> Response:
    return make_response(render_template("twofactor/code.html", form=form, error=error), status)


@bp.get("/code")
def code() -> Response:
    """The second step of logging in: the code from the app (or a recovery code)."""
    if _pending_user() is None:
        return redirect(url_for("auth.login"))
    return _code_page(CodeForm())


@bp.post("/code")
def code_post() -> Response:
    """Check the code; a wrong one counts towards the same kind of limit as a wrong password."""
    user = _pending_user()
    if user is None:
        session.pop("pending_login", None)
        return redirect(url_for("auth.login"), 303)
    form = CodeForm()
    if not form.validate():
        return _code_page(form, 422)
    key = _wrong_code_key(user.id)
    if Throttle.count_for(key, WRONG_CODE_WINDOW) >= MAX_WRONG_CODES:
        SecurityEvent.record("second-factor-throttled", user)
        return _code_page(form, 429, TOO_MANY)
    factor = SecondFactor.of(user)
    typed = form.code.data or ""
    by_app = factor is not None and factor.accept(typed)
    by_recovery = not by_app and factor is not None and RecoveryCode.use(user, typed)
    if not (by_app or by_recovery):
        Throttle.hit(key, WRONG_CODE_WINDOW)
        SecurityEvent.record("second-factor-failed", user)
        form.code.errors = [
            _l("Deze code klopt niet, of werd al gebruikt. Wacht op een nieuwe code in je app.")
        ]
        return _code_page(form, 401)
    Throttle.clear(key)
    if by_recovery:
        SecurityEvent.record("recovery-code-used", user)
    next_url = session["pending_login"].get("next")
    response = finish_login(
        user, next_url, second_factor=True, own_device=bool(form.own_device.data)
    )
    if response is None:  # deactivated or given a new password in the meantime
        return redirect(url_for("auth.login"), 303)
    return response


def login_session() -> LoginSession | None:
    return getattr(current_user, "login_session", None)


def recently_confirmed() -> bool:
    """Did the person give their password or a code in the last 10 minutes?"""
    current = login_session()
    verified = current.verified_at if current is not None else None
    return verified is not None and verified > utcnow() - REAUTH_AFTER


def _check_secret(user: User, typed: str) -> str | None:
    """'code' for a code of the person's app, 'password' for their password, else None."""
    factor = SecondFactor.of(user)
    if factor is not None and SecondFactor.code_fits(factor.secret, typed) is not None:
        return "code" if factor.accept(typed) else None
    return "password" if user.check_password(typed) else None


def _confirmed(form: ConfirmForm) -> Response | None:
    """Check a filled-in confirmation; None when it was right (and the time is noted), else the
    page again with the error."""
    user = current_user._get_current_object()
    key = f"reauth:{user.id}"
    if Throttle.count_for(key, WRONG_CODE_WINDOW) >= MAX_WRONG_CODES:
        SecurityEvent.record("reauth-failed", user)
        form.confirm_secret.errors = [TOO_MANY]
        return _confirm_page(form, 429)
    if not form.validate():
        return _confirm_page(form, 422)
    given = _check_secret(user, form.confirm_secret.data or "")
    if given is None:
        Throttle.hit(key, WRONG_CODE_WINDOW)
        SecurityEvent.record("reauth-failed", user)
        form.confirm_secret.errors = [_l("Dit klopt niet. Probeer het opnieuw.")]
        return _confirm_page(form, 422)
    Throttle.clear(key)
    if given == "code":
        mark_second_factor_passed()
        return None
    if _code_needed():
        form.confirm_secret.errors = [_l("Geef een code uit je app: je team vraagt die nu.")]
        return _confirm_page(form, 422)
    current = login_session()
    if current is not None:
        current.verified_at = utcnow()
        LoginSession.update(verified_at=current.verified_at).where(
            LoginSession.id == current.id
        ).execute()
    return None


def _code_needed() -> bool:
    """This login has not passed the second factor the person now needs."""
    current = login_session()
    return (
        current is not None
        and not current.second_factor
        and second_factor_required(current_user._get_current_object())
    )


def _confirm_page(form: ConfirmForm, status: int = 200) -> Response:
    """The question; for a POST that was held up, a form that sends the same values again
    (with the password or code) to the same address, so nothing typed is lost."""
    user = current_user._get_current_object()
    has_app = SecondFactor.of(user) is not None
    if has_app:
        form.confirm_secret.label.text = _l("Wachtwoord of code uit je app")
    carry: list[tuple[str, str]] = []
    if request.method == "POST" and request.endpoint != "twofactor.confirm_post":
        action = request.full_path.rstrip("?")
        carry = [
            (name, value)
            for name, values in request.form.lists()
            if name not in ("csrf_token", "username", CONFIRM_FIELD)
            for value in values
        ]
    else:
        action = url_for("twofactor.confirm_post", next=_safe_next())
    html = render_template(
        "twofactor/confirm.html",
        form=form,
        action=action,
        carry=carry,
        has_app=has_app,
        code_needed=has_app and _code_needed(),
    )
    return make_response(html, status)


def _safe_next() -> str | None:
    from webapp.auth import is_safe_next  # noqa: PLC0415  (auth imports this module)

    target = request.args.get("next")
    return target if is_safe_next(target) else None


@bp.get("/confirm")
@login_required
def confirm() -> Response:
    """Bevestig dat jij het bent: the password or a code, then back to where the person was."""
    return _confirm_page(ConfirmForm())


@bp.post("/confirm")
@login_required
def confirm_post() -> Response:
    """Check the password or code and go back to the page that asked for it."""
    form = ConfirmForm()
    problem = _confirmed(form)
    if problem is not None:
        return problem
    return redirect_to(_safe_next() or url_for("today.index"))


def recent_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Before a grave action: the password or a code given in the last 10 minutes, else ask.
    A page (GET) is asked before it shows; a form sent (POST) is kept and sent again."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if recently_confirmed():
            return view(*args, **kwargs)
        if request.method == "POST" and CONFIRM_FIELD in request.form:
            problem = _confirmed(ConfirmForm())
            if problem is not None:
                return problem
            return view(*args, **kwargs)
        if request.method == "POST":
            return _confirm_page(ConfirmForm(formdata=None))
        return redirect_to(url_for("twofactor.confirm", next=request.full_path.rstrip("?")))

    return wrapped


def _second_factor_first() -> Response | None:
    """Someone who must have a second factor and whose login did not pass one may only set it
    up (or confirm with a code, when the rule came in while they were logged in)."""
    if request.endpoint in ALLOWED_BEFORE_SET_UP or request.endpoint is None:
        return None
    if request.blueprint == "pwa" or not current_user.is_authenticated:
        return None
    current = login_session()
    if current is None or current.second_factor:
        return None
    user = current_user._get_current_object()
    if not second_factor_required(user):
        return None
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    if SecondFactor.of(user) is None:
        return redirect_to(url_for("account.second_factor", next=here))
    return redirect_to(url_for("twofactor.confirm", next=here))


def mark_second_factor_passed() -> None:
    """This login now passed the second factor (set up or confirmed with a code)."""
    current = login_session()
    if current is not None:
        now = utcnow()
        LoginSession.update(second_factor=True, verified_at=now).where(
            LoginSession.id == current.id
        ).execute()
        current.second_factor, current.verified_at = True, now


def init_app(app: Flask) -> None:
    app.before_request(_second_factor_first)
