"""The forms of /vraag (in the visitor's language) and of the walk-in hours (team screens)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, TimestampSigner
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from webapp.forms import CheckboxesField, EmailAddress, max_length, options, phone_number, strip
from webapp.models import CALL_MOMENTS, LANGUAGES, WEEKDAYS

# What a person may like, each with the team's domain it belongs to (for the reports).
LIKES = {
    "sport": (_l("sport"), "sport"),
    "zwemmen": (_l("zwemmen"), "sport"),
    "muziek": (_l("muziek"), "cultuur"),
    "dansen": (_l("dansen"), "cultuur"),
    "tekenen": (_l("tekenen"), "cultuur"),
    "spelen": (_l("spelen"), "jeugd"),
    "jeugdbeweging": (_l("jeugdbeweging"), "jeugd"),
    "club": (_l("een club dicht bij huis"), "sport"),
}
FOR_WHOM_CHOICES = {
    "ik": _l("Voor mij"),
    "kind": _l("Voor mijn kind"),
    "gezin": _l("Voor mijn gezin"),
}
CONSENT = _l(
    "Ik ga akkoord: het team vrije tijd van de stad gebruikt deze gegevens om mij te bellen of "
    "te mailen en mij te helpen. Het team geeft ze aan niemand anders."
)
MIN_SECONDS = 4  # faster than a person can read and tick the form: a program
MAX_STAMP_AGE = 24 * 3600


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt="vraag-opened")


def opened_stamp() -> str:
    """When the form was shown, signed: the server can tell its age, nobody can forge it."""
    return _signer().sign(uuid.uuid4().hex).decode()


def seconds_open(stamp: str) -> float | None:
    """How long the form was open, or None for a missing, forged or day-old stamp."""
    try:
        _, signed_at = _signer().unsign(stamp or "", max_age=MAX_STAMP_AGE, return_timestamp=True)
    except BadSignature:  # includes SignatureExpired
        return None
    return time.time() - signed_at.timestamp()


class AgeField(StringField):
    """An age in whole years, typed; the text is kept when it is wrong."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = int(self.raw) if self.raw.isascii() and self.raw.isdigit() else None

    def _value(self) -> str:
        return getattr(self, "raw", None) or ("" if self.data is None else str(self.data))


class VraagForm(FlaskForm):
    for_whom = RadioField(
        _l("Voor wie zoek je iets?"),
        choices=options(FOR_WHOM_CHOICES),
        validators=[InputRequired(_l("Kies voor wie je iets zoekt."))],
    )
    age = AgeField(_l("Hoe oud?"))
    likes = CheckboxesField(
        _l("Wat doe je graag?"),
        choices=options({key: label for key, (label, _) in LIKES.items()}),
        validators=[Optional()],
    )
    name = StringField(
        _l("Je naam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul je naam in.")), max_length(80)],
    )
    # No Optional(): it would stop the chain before validate_phone (phone or e-mail).
    phone = TelField(_l("Je telefoonnummer"), filters=[strip], validators=[max_length(30)])
    email = EmailField(
        _l("Of je e-mailadres"),
        filters=[strip],
        validators=[Optional(), EmailAddress(), max_length(254)],
    )
    whatsapp = BooleanField(_l("Je mag me ook een WhatsApp-bericht sturen."))
    language = SelectField(_l("In welke taal praten we?"), choices=options(LANGUAGES))
    call_moment = RadioField(
        _l("Wanneer bellen we je best?"),
        choices=options(CALL_MOMENTS),
        default="altijd",
        validators=[InputRequired(_l("Kies wanneer we je best bellen."))],
    )
    consent = BooleanField(
        CONSENT, validators=[DataRequired(_l("Zonder je akkoord kunnen we je niet helpen."))]
    )
    # Left empty by people (they never see it); a program that fills every field fills it.
    website = StringField(_l("Laat dit veld leeg"), filters=[strip])
    opened = HiddenField()
    idempotency_key = HiddenField()

    def __init__(self, *args: Any, language: str = "nl", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.language.data:
            self.language.data = language
        if not self.idempotency_key.data:
            self.idempotency_key.data = str(uuid.uuid4())
        if not self.opened.data:
            self.opened.data = opened_stamp()

    def validate_age(self, field: AgeField) -> None:
        if not field.raw:
            raise ValidationError(_l("Vul een leeftijd in."))
        if len(field.raw) > 3 or field.data is None or field.data > 110:
            raise ValidationError(_l("Vul een leeftijd in met cijfers, bijvoorbeeld 9."))

    def validate_phone(self, field: TelField) -> None:
        if not field.data and not self.email.data:
            raise ValidationError(_l("Vul een telefoonnummer of een e-mailadres in."))
        if field.data:
            phone_number()(self, field)

    def validate_idempotency_key(self, field: HiddenField) -> None:
        try:
            uuid.UUID(field.data or "")
        except ValueError:
            raise ValidationError(_l("Laad de pagina opnieuw.")) from None

    def domains(self) -> str:
        keys = dict.fromkeys(LIKES[k][1] for k in self.likes.data or [] if k in LIKES)
        return ",".join(keys)


def _time_between(earliest: dt.time, latest: dt.time) -> Any:
    def check(form: Any, field: Any) -> None:
        if field.data and not earliest <= field.data <= latest:
            raise ValidationError(_l("Kies een uur tussen 7 en 22 uur."))

    return check


class WalkInHoursForm(FlaskForm):
    place = StringField(
        _l("Plaats"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de plaats in.")), max_length(100)],
    )
    address = StringField(
        _l("Adres"),
        filters=[strip],
        validators=[DataRequired(_l("Vul het adres in.")), max_length(160)],
    )
    weekday = SelectField(_l("Dag"), coerce=int, validators=[InputRequired(_l("Kies een dag."))])
    starts = TimeField(
        _l("Van"),
        validators=[
            InputRequired(_l("Vul het beginuur in.")),
            _time_between(dt.time(7), dt.time(22)),
        ],
    )
    ends = TimeField(
        _l("Tot"),
        validators=[
            InputRequired(_l("Vul het einduur in.")),
            _time_between(dt.time(7), dt.time(22)),
        ],
    )
    note = StringField(_l("Opmerking"), filters=[strip], validators=[Optional(), max_length(200)])
    active = BooleanField(_l("Tonen op /vraag en op de affiche"), default=True)
    version = HiddenField()  # the version the form was shown with (409 when it changed)

    def __init__(self, *args: Any, day_names: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weekday.choices = [(day, day_names[day]) for day in WEEKDAYS]

    def validate_ends(self, field: TimeField) -> None:
        if field.data and self.starts.data and field.data <= self.starts.data:
            raise ValidationError(_l("Het einduur komt na het beginuur."))
