"""Forms for managing the team: new user, changes to role, service, phone and languages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from webapp.forms import CheckboxesField, EmailAddress, max_length, phone_number, strip
from webapp.models import LANGUAGES, ROLES, SERVICES, User
from webapp.passwords import password_problem


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _known_role(form: Any, field: Any) -> None:
    if field.data not in ROLES:
        raise ValidationError(_l("Kies een rol uit de lijst."))


def _known_service(form: Any, field: Any) -> None:
    if field.data not in SERVICES:
        raise ValidationError(_l("Kies een dienst uit de lijst."))


class EditUserForm(FlaskForm):
    version = HiddenField()  # the version the form was shown with (409 when it changed)
    name = StringField(
        _l("Naam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de naam in.")), max_length(100)],
    )
    role = RadioField(
        _l("Rol"),
        default="mediator",
        choices=[SelectChoice(k, v) for k, v in ROLES.items()],
        validate_choice=False,
        validators=[_known_role],
    )
    service = SelectField(
        _l("Dienst"),
        choices=[SelectChoice(k, v) for k, v in SERVICES.items()],
        validate_choice=False,
        validators=[_known_service],
    )
    phone = StringField(
        _l("Telefoon"), filters=[strip], validators=[Optional(), phone_number(), max_length(30)]
    )
    languages = CheckboxesField(
        _l("Talen die deze persoon spreekt met cliënten"),
        choices=[SelectChoice(k, v) for k, v in LANGUAGES.items()],
        validators=[Optional()],
        invalid_choice_message=_l("Kies talen uit de lijst."),
    )

    def __init__(self, *args: Any, editing: User | None = None, by: User | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.editing, self.by = editing, by

    def validate_role(self, field: Any) -> None:
        # A coordinator who demotes themselves could lock the team out of this screen.
        if self.editing is not None and self.editing == self.by and field.data != "coordinator":
            raise ValidationError(_l("Je kan je eigen rol niet afnemen."))


class NewUserForm(EditUserForm):
    email = EmailField(
        _l("E-mailadres"),
        filters=[_lower],
        validators=[DataRequired(_l("Vul het e-mailadres in.")), EmailAddress(), max_length(254)],
    )
    generate = BooleanField(_l("Maak een wachtwoord voor mij"))
    password = PasswordField(
        _l("Beginwachtwoord"), validators=[Length(max=200, message=_l("Maximaal 200 tekens."))]
    )
    password_again = PasswordField(_l("Beginwachtwoord nog eens"))

    def validate_email(self, field: Any) -> None:
        if field.data and User.by_email(field.data) is not None:
            raise ValidationError(_l("Er is al iemand met dit e-mailadres."))

    def validate_password(self, field: Any) -> None:
        if self.generate.data:
            return
        if not field.data:
            raise ValidationError(_l("Typ een wachtwoord, of laat er een maken."))
        problem = password_problem(field.data, self.name.data or "", self.email.data or "")
        if problem:
            raise ValidationError(problem)

    def validate_password_again(self, field: Any) -> None:
        if not self.generate.data and self.password.data and field.data != self.password.data:
            raise ValidationError(_l("De twee wachtwoorden verschillen."))


class TeamSecurityForm(FlaskForm):
    for_all = BooleanField(_l("Iedereen van het team gebruikt een tweede stap"))
