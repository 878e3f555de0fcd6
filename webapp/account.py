"""Mijn account: a team member changes their own password and screen language, sets up the
second factor (an authenticator app and recovery codes), and logs out their other devices (a
lost phone)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, refresh
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from webapp.activities.links import qr_svg
from webapp.auth import is_safe_next
from webapp.forms import max_length
from webapp.htmx import redirect_to, render_page_or_block
from webapp.models import (
    AuditEvent,
    LoginSession,
    RecoveryCode,
    SecondFactor,
    SecurityEvent,
    Throttle,
    User,
    database,
    second_factor_required,
)
from webapp.passwords import HINT as PASSWORD_HINT
from webapp.passwords import password_problem
from webapp.twofactor import mark_second_factor_passed, recent_login_required

bp = Blueprint("account", __name__, url_prefix="/account")

MAX_WRONG_PASSWORDS = 5
WRONG_PASSWORD_WINDOW = dt.timedelta(minutes=15)
SCREEN_LANGUAGES = {
    "": _l("Zoals mijn browser"),
    "nl": "Nederlands",
    "en": "English",
}


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Huidig wachtwoord"),
        validators=[DataRequired(_l("Vul je huidige wachtwoord in.")), max_length(200)],
    )
    new = PasswordField(
        _l("Nieuw wachtwoord"),
        validators=[
            DataRequired(_l("Vul een nieuw wachtwoord in.")),
            max_length(200),
        ],
    )
    new_again = PasswordField(
        _l("Nieuw wachtwoord nog eens"),
        validators=[DataRequired(_l("Typ het nieuwe wachtwoord nog eens."))],
    )

    def __init__(self, *args: Any, user: User, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.user = user

    def validate_current(self, field: Any) -> None:
        if field.data and not self.user.check_password(field.data):
            raise ValidationError(_l("Dit is niet je huidige wachtwoord."))

    def validate_new(self, field: Any) -> None:
        if not field.data:
            return
        problem = password_problem(field.data, self.user.name, self.user.email)
        if problem:
            raise ValidationError(problem)
        if field.data == self.current.data:
            raise ValidationError(_l("Kies een ander wachtwoord dan het huidige."))

    def validate_new_again(self, field: Any) -> None:
        if field.data and self.new.data and field.data != self.new.data:
            raise ValidationError(_l("De twee wachtwoorden verschillen."))


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code uit je app"),
        validators=[DataRequired(_l("Typ de 6 cijfers die je app nu toont.")), max_length(20)],
    )


class LanguageForm(FlaskForm):
    ui_language = RadioField(
        _l("Taal van het scherm"),
        choices=[SelectChoice(k, v) for k, v in SCREEN_LANGUAGES.items()],
        validate_choice=False,
    )

    def validate_ui_language(self, field: Any) -> None:
        if field.data not in SCREEN_LANGUAGES:
            raise ValidationError(_l("Kies een taal uit de lijst."))


def _wrong_password_key() -> str:
    return f"password-change:{current_user.id}"


def _page(status: int = 200, **forms: Any) -> Response:
    user = current_user._get_current_object()
    context = {
        "password_form": PasswordForm(user=user, formdata=None),
        "language_form": LanguageForm(formdata=None, ui_language=user.ui_language or ""),
        "other_sessions": user.open_sessions() - 1,
        "password_hint": PASSWORD_HINT,
        "second_factor": SecondFactor.of(user),
        **forms,
    }
    return render_page_or_block("account/index.html", "account", status=status, **context)


@bp.get("")
@login_required
def index() -> Response:
    """Who I am, my password, my screen language, my other devices."""
    return _page()


@bp.post("/password")
@login_required
def change_password() -> Response:
    """A new password; every other device is logged out, this one stays."""
    user = current_user._get_current_object()
    form = PasswordForm(user=user)
    if Throttle.count_for(_wrong_password_key(), WRONG_PASSWORD_WINDOW) >= MAX_WRONG_PASSWORDS:
        # Not even checked (a stolen phone cannot keep guessing): the answer is the same.
        form.current.errors = [_("Te veel pogingen. Probeer het over een kwartier opnieuw.")]
        return _page(429, password_form=form)
    if not form.validate():
        if form.current.errors and form.current.data:
            Throttle.hit(_wrong_password_key(), WRONG_PASSWORD_WINDOW)
            SecurityEvent.record("password-check-failed", user)
        return _page(422, password_form=form)
    with database.atomic():
        user.replace_password(form.new.data)
        ended = user.end_other_sessions()
        AuditEvent.record("password", user)
    Throttle.clear(_wrong_password_key())
    if ended:
        flash(_("Je wachtwoord is gewijzigd. Je andere toestellen zijn afgemeld."))
    else:
        flash(_("Je wachtwoord is gewijzigd."))
    return redirect_to(url_for("account.index"))


@bp.post("/language")
@login_required
def change_language() -> Response:
    """The language of the team's screens for me."""
    form = LanguageForm()
    if not form.validate():
        return _page(422, language_form=form)
    chosen = form.ui_language.data or None
    User.update(ui_language=chosen).where(User.id == current_user.id).execute()
    current_user.ui_language = chosen
    refresh()  # the confirmation below is already in the new language
    flash(_("De taal is bewaard."))
    return redirect_to(url_for("account.index"))


@bp.post("/sessions/end")
@login_required
def end_other_sessions() -> Response:
    """Log out on every other device (a phone left behind on the tram)."""
    user = current_user._get_current_object()
    ended = user.end_other_sessions()
    AuditEvent.record("logout-elsewhere", user)
    flash(
        ngettext(
            "Afgemeld op %(num)d ander toestel.", "Afgemeld op %(num)d andere toestellen.", ended
        )
    )
    return redirect_to(url_for("account.index"))


SETUP_SECRET = "second_factor_setup"  # noqa: S105 (a session key)


def _setup_secret() -> str:
    """The secret being set up, kept in the signed session cookie until a code confirms it (the
    page shows it anyway): opening the page stores nothing."""
    secret = session.get(SETUP_SECRET)
    if not isinstance(secret, str) or not re.fullmatch(r"[A-Z2-7]{32}", secret):
        secret = SecondFactor.new_secret()
        session[SETUP_SECRET] = secret
    return secret


def _next() -> str | None:
    target = request.args.get("next")
    return target if is_safe_next(target) else None


def _second_factor_page(form: SecondFactorForm, status: int = 200) -> Response:
    user = current_user._get_current_object()
    factor = SecondFactor.of(user)
    context: dict[str, Any] = {
        "form": form,
        "factor": factor,
        "required": second_factor_required(user),
        "next": _next(),
    }
    if factor is None:
        secret = _setup_secret()
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["qr"] = qr_svg(SecondFactor.uri(secret, user.email), _("QR-code voor je app"))
    else:
        context["codes_left"] = RecoveryCode.left_for(user)
    return make_response(render_template("account/second_factor.html", **context), status)


@bp.get("/second-factor")
@login_required
def second_factor() -> Response:
    """Set up the authenticator app (a QR code, and the key as text to type), or see it is on."""
    return _second_factor_page(SecondFactorForm(formdata=None))


def _recovery_codes_page(codes: list[str], status: int = 200) -> Response:
    """The recovery codes, shown once (never stored in clear; no-store like every page)."""
    html = render_template("account/recovery_codes.html", codes=codes, next=_next())
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/second-factor")
@login_required
def second_factor_enable() -> Response:
    """Switch the second factor on once a code from the app proves it was set up right."""
    user = current_user._get_current_object()
    form = SecondFactorForm()
    if SecondFactor.of(user) is not None:
        return _second_factor_page(SecondFactorForm(formdata=None), 409)
    if not form.validate():
        return _second_factor_page(form, 422)
    secret = _setup_secret()
    step = SecondFactor.code_fits(secret, form.code.data or "")
    if step is None:
        form.code.errors = [
            _("Deze code klopt niet. Typ de 6 cijfers die je app nu bij Vrijbaan toont.")
        ]
        return _second_factor_page(form, 422)
    with database.atomic():
        codes = SecondFactor.switch_on(user, secret, step)
        AuditEvent.record("second-factor-on", user)
        SecurityEvent.record("second-factor-enabled", user)
    session.pop(SETUP_SECRET, None)
    mark_second_factor_passed()
    return _recovery_codes_page(codes, 201)


@bp.post("/second-factor/recovery-codes")
@login_required
@recent_login_required
def new_recovery_codes() -> Response:
    """Ten new recovery codes (the old ones stop working): when they are used up or lost."""
    user = current_user._get_current_object()
    if SecondFactor.of(user) is None:
        return redirect_to(url_for("account.second_factor"))
    with database.atomic():
        codes = RecoveryCode.replace_for(user)
        AuditEvent.record("recovery-codes", user)
    return _recovery_codes_page(codes)


@bp.post("/second-factor/remove")
@login_required
@recent_login_required
def second_factor_remove() -> Response:
    """Forget the app (a new phone): set it up again right after; required or not."""
    user = current_user._get_current_object()
    with database.atomic():
        SecondFactor.remove_for(user)
        AuditEvent.record("second-factor-off", user)
        # This login no longer counts as one with a second factor: whoever must have one is
        # kept on the set-up page until the new phone is set up.
        LoginSession.update(second_factor=False, own_device=False).where(
            LoginSession.user == user.id
        ).execute()
    flash(_("Je app is vergeten. Stel de tweede stap opnieuw in."))
    return redirect_to(url_for("account.second_factor"))
