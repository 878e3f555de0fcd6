"""The forms of the front door: the public referral form, intake decisions, organisations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from webapp.forms import (
    CheckboxesField,
    EmailAddress,
    NotInFuture,
    Plausible,
    max_length,
    options,
    phone_number,
    postcode,
    strip,
)
from webapp.models import DISTRICTS, DOMAINS, FIRST_CONTACT, LANGUAGES, ORGANISATION_KINDS

# What the referrer declares; the exact text shown is stored with the referral.
CONSENT_TEXT = _l(
    "De persoon weet van deze doorverwijzing en gaat ermee akkoord dat het team vrije tijd "
    "deze gegevens gebruikt om contact op te nemen en hem of haar te begeleiden."
)


class ReferralForm(FlaskForm):
    referrer_name = StringField(
        _l("Jouw naam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul je naam in.")), max_length(100)],
    )
    referrer_role = StringField(
        _l("Jouw functie"), filters=[strip], validators=[Optional(), max_length(100)]
    )
    referrer_email = EmailField(
        _l("Jouw e-mailadres"),
        filters=[strip],
        validators=[DataRequired(_l("Vul je e-mailadres in.")), EmailAddress(), max_length(254)],
    )
    referrer_phone = TelField(
        _l("Jouw telefoonnummer"), filters=[strip], validators=[Optional(), phone_number()]
    )
    first_name = StringField(
        _l("Voornaam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de voornaam in.")), max_length(80)],
    )
    last_name = StringField(
        _l("Familienaam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de familienaam in.")), max_length(80)],
    )
    birth_date = DateField(
        _l("Geboortedatum"),
        validators=[
            InputRequired(_l("Vul de geboortedatum in.")),
            NotInFuture(),
            Plausible(dt.date(1900, 1, 1)),
        ],
    )
    phone = TelField(_l("Telefoonnummer"), filters=[strip], validators=[Optional(), phone_number()])
    language = SelectField(_l("Taal"), choices=options(LANGUAGES), default="nl")
    district = SelectField(
        _l("District"),
        choices=options(
            [("", _l("— kies —")), *[(d, d) for d in DISTRICTS], ("buiten", _l("buiten Antwerpen"))]
        ),
        default="",
    )
    household = TextAreaField(
        _l("Gezin"), filters=[strip], validators=[Optional(), max_length(500)]
    )
    domains = CheckboxesField(
        _l("Waar zoekt de persoon iets in?"), choices=options(DOMAINS), validators=[Optional()]
    )
    interests = StringField(
        _l("Interesses"), filters=[strip], validators=[Optional(), max_length(200)]
    )
    question = TextAreaField(
        _l("De vraag"),
        filters=[strip],
        validators=[DataRequired(_l("Beschrijf kort de vraag.")), max_length(2000)],
    )
    known_thresholds = CheckboxesField(
        _l("Drempels die je al kent"), choices=[], validators=[Optional()]
    )
    first_contact = RadioField(
        _l("Hoe maken we het best een eerste afspraak?"),
        choices=options(FIRST_CONTACT),
        validators=[InputRequired(_l("Kies hoe we de persoon het best eerst ontmoeten."))],
    )
    # Asked always, required for a home visit (checked below): the mediator must know where to go.
    # No Optional(): it would stop the chain before validate_street / validate_postcode.
    street = StringField(_l("Straat en huisnummer"), filters=[strip], validators=[max_length(120)])
    postcode = StringField(_l("Postcode"), filters=[strip], validators=[postcode()])
    consent = BooleanField(
        CONSENT_TEXT,
        validators=[DataRequired(_l("Zonder akkoord van de persoon kunnen we niet verder."))],
    )
    idempotency_key = HiddenField()

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_thresholds.choices = options(categories)
        if not self.idempotency_key.data:
            self.idempotency_key.data = str(uuid.uuid4())

    def validate_street(self, field: StringField) -> None:
        if self.first_contact.data == "huisbezoek" and not field.data:
            raise ValidationError(_l("Vul het adres in: waar gaan we op huisbezoek?"))

    def validate_postcode(self, field: StringField) -> None:
        if self.first_contact.data == "huisbezoek" and not field.data:
            raise ValidationError(_l("Vul de postcode in."))

    def validate_idempotency_key(self, field: HiddenField) -> None:
        try:
            uuid.UUID(field.data or "")
        except ValueError:
            raise ValidationError(_l("Laad het formulier opnieuw.")) from None


class AcceptForm(FlaskForm):
    mediator = SelectField(
        _l("Bemiddelaar"), validators=[InputRequired(_l("Kies een bemiddelaar."))]
    )
    client = RadioField(
        _l("Cliënt"), validators=[InputRequired(_l("Kies: een bestaande cliënt of een nieuwe."))]
    )


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Waarom niet?"),
        filters=[strip],
        validators=[DataRequired(_l("Schrijf kort waarom."))],
    )

    def validate_reason(self, field: TextAreaField) -> None:
        if len(field.data or "") > 300:
            raise ValidationError(_l("Maximaal %(max)d tekens.", max=300))


class OrganisationForm(FlaskForm):
    version = HiddenField()  # the version the form was shown with (409 when it changed)
    name = StringField(
        _l("Naam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de naam in.")), max_length(120)],
    )
    kind = SelectField(_l("Soort"), choices=options(ORGANISATION_KINDS), default="ocmw")
    district = SelectField(
        _l("District"),
        choices=options([("", _l("— kies —")), *[(d, d) for d in DISTRICTS]]),
        default="",
    )
    email = EmailField(
        _l("E-mailadres"), filters=[strip], validators=[Optional(), EmailAddress(), max_length(254)]
    )
    phone = TelField(_l("Telefoonnummer"), filters=[strip], validators=[Optional(), phone_number()])
    archived = BooleanField(_l("Gearchiveerd (stuurt geen doorverwijzingen meer)"))
