"""Mijn account: a team member changes their own password and screen language, and logs out
their other devices (a lost phone)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, refresh
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from webapp.auth import MIN_PASSWORD_LENGTH
from webapp.forms import max_length
from webapp.htmx import redirect_to, render_page_or_block
from webapp.models import AuditEvent, Throttle, User, database

bp = Blueprint("account", __name__, url_prefix="/account")

MAX_WRONG_PASSWORDS = 5
WRONG_PASSWORD_WINDOW = dt.timedelta(minutes=15)
SCREEN_LANGUAGES = {
    "": _l("Zoals mijn browser"),
    "nl": "Nederlands",
    "en": "English",
}


def password_rule(form: Any, field: Any) -> None:
    if field.data and len(field.data) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _l("Een wachtwoord heeft minstens %(n)d tekens.", n=MIN_PASSWORD_LENGTH)
        )


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Huidig wachtwoord"),
        validators=[DataRequired(_l("Vul je huidige wachtwoord in.")), max_length(200)],
    )
    new = PasswordField(
        _l("Nieuw wachtwoord"),
        validators=[
            DataRequired(_l("Vul een nieuw wachtwoord in.")),
            password_rule,
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
        if field.data and field.data == self.current.data:
            raise ValidationError(_l("Kies een ander wachtwoord dan het huidige."))

    def validate_new_again(self, field: Any) -> None:
        if field.data and self.new.data and field.data != self.new.data:
            raise ValidationError(_l("De twee wachtwoorden verschillen."))


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
        "min_password_length": MIN_PASSWORD_LENGTH,
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
