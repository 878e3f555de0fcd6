"""The visit form: one thumb, thirty seconds, and every field checked on the server."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from webapp.forms import max_length, strip
from webapp.models import CANCEL_REASONS, CONTACT_TYPES, REMOVE_REASONS, Case, Visit
from webapp.timeutil import LOCAL, local_today, to_local, to_utc, utcnow

KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# A little slack for a phone whose clock runs ahead of the server's.
CLOCK_SLACK = dt.timedelta(minutes=10)
PLANNED_AHEAD = dt.timedelta(days=366)
DURATION_CHOICES = (15, 30, 45, 60, 90)
MAX_DURATION = 720


def _known_contact_type(form: Any, field: Any) -> None:
    if not field.data:
        raise ValidationError(_l("Kies de soort contact."))
    if field.data not in CONTACT_TYPES:
        raise ValidationError(_l("Kies een soort contact uit de lijst."))


class VisitForm(FlaskForm):
    contact_type = RadioField(
        _l("Soort contact"),
        choices=[SelectChoice(key, label) for key, label in CONTACT_TYPES.items()],
        validate_choice=False,
        validators=[_known_contact_type],
    )
    occurred_at = DateTimeLocalField(
        _l("Wanneer"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        invalid_value_message=_l("Vul een datum en uur in, zoals 14-03-2026 10:30."),
        validators=[InputRequired(_l("Vul in wanneer het contact was."))],
    )
    duration_minutes = IntegerField(
        _l("Duur (minuten)"),
        default=30,
        invalid_value_message=_l("Vul een aantal minuten in, zoals 30."),
        validators=[
            InputRequired(_l("Vul de duur in minuten in.")),
            NumberRange(
                min=0,
                max=MAX_DURATION,
                message=_l("De duur ligt tussen 0 en %(max)d minuten.", max=MAX_DURATION),
            ),
        ],
    )
    place = StringField(_l("Plaats"), filters=[strip], validators=[max_length(120)])
    contact_made = BooleanField(_l("Contact gehad"), default=True)
    planned = BooleanField(_l("Gepland (nog niet gebeurd)"))
    remind_client = BooleanField(_l("Herinnering sturen"))
    notes = TextAreaField(_l("Notities"), filters=[strip], validators=[max_length(2000)])
    # A to-do (taak) the contact leaves; the field names stay, so queued offline visits fit.
    next_action = StringField(_l("Te doen"), filters=[strip], validators=[max_length(200)])
    next_action_due = DateField(
        _l("Tegen wanneer"),
        invalid_value_message=_l("Vul een datum in."),
        validators=[Optional()],
    )
    idempotency_key = HiddenField()

    def __init__(self, case: Case, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        if not self.idempotency_key.data:
            self.idempotency_key.data = str(uuid.uuid4())

    @property
    def occurred_utc(self) -> dt.datetime:
        return to_utc(self.occurred_at.data)

    def validate_occurred_at(self, field: Any) -> None:
        if field.data is None:
            return
        when = to_utc(field.data)
        now = utcnow()
        if not self.planned.data and when > now + CLOCK_SLACK:
            raise ValidationError(
                _l("Dit ligt in de toekomst. Vink 'Gepland' aan voor een contact dat nog komt.")
            )
        if when > now + PLANNED_AHEAD or field.data.year < 2000:
            raise ValidationError(_l("Deze datum kan niet kloppen."))
        if field.data.date() < to_local(self.case.opened_at).date():
            raise ValidationError(_l("Dit ligt vóór de opening van het dossier."))

    def validate_next_action_due(self, field: Any) -> None:
        if field.data is None:
            return
        if not self.next_action.data:
            raise ValidationError(_l("Vul ook in wat er te doen is, of laat de datum leeg."))
        today = local_today()
        if field.data > today + PLANNED_AHEAD or field.data.year < 2000:
            raise ValidationError(_l("Deze datum kan niet kloppen."))
        earliest = min(today, self.occurred_at.data.date()) if self.occurred_at.data else today
        if field.data < earliest:
            raise ValidationError(_l("Deze datum is al voorbij."))

    def validate_idempotency_key(self, field: Any) -> None:
        if not KEY_RE.match(field.data or ""):
            raise ValidationError(_l("Laad het formulier opnieuw."))

    def summary(self) -> str:
        """When, how long and where, in one line (the closed 'Wanneer, duur en plaats')."""
        parts = []
        when = self.occurred_at.data
        if isinstance(when, dt.datetime):
            parts.append(f"{when.day}/{when.month} {when:%H:%M}")
        if isinstance(self.duration_minutes.data, int):
            parts.append(str(_l("%(n)s min", n=self.duration_minutes.data)))
        if self.place.data:
            parts.append(self.place.data)
        if self.planned.data:
            parts.append(str(_l("gepland")))
        if not self.contact_made.data:
            parts.append(str(_l("geen contact")))
        return " · ".join(parts)

    def values(self) -> dict[str, Any]:
        """What the form stores on a visit (the to-do is a row of its own: see `task`)."""
        return {
            "contact_type": self.contact_type.data,
            "occurred_at": self.occurred_utc,
            "duration_minutes": self.duration_minutes.data,
            "place": self.place.data or "",
            "contact_made": bool(self.contact_made.data),
            "planned": bool(self.planned.data),
            "remind_client": bool(self.planned.data and self.remind_client.data),
            "notes": self.notes.data or "",
        }

    def task(self) -> tuple[str, dt.date | None] | None:
        """The to-do typed under 'Te doen' with its date, if one was typed."""
        return (self.next_action.data, self.next_action_due.data) if self.next_action.data else None


def new_form(case: Case) -> VisitForm:
    """An empty form: now, in Brussels, as the time of the contact."""
    form = VisitForm(case)
    if not form.is_submitted():
        form.occurred_at.data = dt.datetime.now(LOCAL).replace(tzinfo=None, second=0, microsecond=0)
    return form


def form_from_planned(visit: Visit) -> VisitEditForm:
    """A form prefilled from a planned contact, to record what happened."""
    form = VisitEditForm(visit.case, obj=visit)
    if not form.is_submitted():
        form.version.data = visit.version or 1
        when = min(visit.occurred_at, utcnow())
        form.occurred_at.data = to_local(when).replace(tzinfo=None, second=0)
        form.planned.data = False
        form.contact_made.data = True
        form.duration_minutes.data = visit.duration_minutes or 30
    return form


def quick_dates() -> list[tuple[str, str]]:
    """Labels and ISO dates for the 'Tegen wanneer' shortcuts."""
    today = local_today()
    return [
        (str(_l("morgen")), (today + dt.timedelta(days=1)).isoformat()),
        (str(_l("over 3 dagen")), (today + dt.timedelta(days=3)).isoformat()),
        (str(_l("volgende week")), (today + dt.timedelta(days=7)).isoformat()),
    ]


# What a contact type usually takes and where it happens: the form fills these in when the type
# is tapped (static/visit-form.js), as long as the mediator did not change them.
TYPICAL_MINUTES = {
    "huisbezoek": 60,
    "permanentie": 30,
    "doorverwijzer": 45,
    "aanbieder": 45,
    "telefonisch": 15,
    "bericht": 5,
    "begeleiding": 90,
    "groepsactiviteit": 120,
    "loket": 30,
    "casusoverleg": 45,
    "administratie": 15,
}
TYPICAL_PLACES = {
    "huisbezoek": _l("Bij de cliënt thuis"),
    "permanentie": _l("Permanentie"),
    "doorverwijzer": _l("Bij de doorverwijzer"),
    "aanbieder": _l("Bij de aanbieder"),
    "loket": _l("Vrijetijdsloket"),
    "casusoverleg": _l("Bij de doorverwijzer"),
}
# Shown first to someone who has not recorded anything yet.
FIRST_TYPES = ("huisbezoek", "telefonisch", "permanentie", "bericht")
TOP_TYPES = 4


def type_defaults(case: Case) -> dict[str, list[Any]]:
    """Per contact type: its usual duration and place (a home visit: the client's street)."""
    street = case.client.street
    defaults: dict[str, list[Any]] = {}
    for key in CONTACT_TYPES:
        place = str(TYPICAL_PLACES.get(key, ""))
        if key == "huisbezoek" and street:
            place = f"{place}, {street}"
        defaults[key] = [TYPICAL_MINUTES.get(key, 30), place[:120]]
    return defaults


def type_order(used: list[str], chosen: str | None) -> tuple[list[str], list[str]]:
    """The contact types shown first (the most used first, then the usual ones) and the rest, behind
    'meer'. A type already chosen (a plan, a correction, a form sent back) is always in sight."""
    top = [key for key in used if key in CONTACT_TYPES][:TOP_TYPES]  # none no longer offered
    for key in FIRST_TYPES:
        if len(top) >= TOP_TYPES:
            break
        if key not in top:
            top.append(key)
    if chosen in CONTACT_TYPES and chosen not in top:
        top.append(chosen)
    return top, [key for key in CONTACT_TYPES if key not in top]


class VisitEditForm(VisitForm):
    """A visit that exists: registering a plan, or correcting a recorded contact."""

    version = HiddenField()


def form_for_correction(visit: Visit) -> VisitEditForm:
    """The form to correct a recorded contact, filled with what is stored."""
    form = VisitEditForm(visit.case, obj=visit)
    if not form.is_submitted():
        form.occurred_at.data = to_local(visit.occurred_at).replace(tzinfo=None, second=0)
        form.version.data = visit.version or 1
    form.planned.data = False  # a recorded contact stays recorded
    form.idempotency_key.data = visit.idempotency_key
    return form


def _version_field() -> HiddenField:
    return HiddenField()


def _reason_field(label: Any, reasons: dict[str, Any], message: Any) -> RadioField:
    return RadioField(
        label,
        choices=[SelectChoice(key, label) for key, label in reasons.items()],
        validators=[InputRequired(message)],
        validate_choice=True,
    )


class RemoveForm(FlaskForm):
    reason = _reason_field(
        _l("Waarom verwijder je dit contact?"), REMOVE_REASONS, _l("Kies een reden.")
    )
    note = StringField(_l("Toelichting (mag leeg)"), filters=[strip], validators=[max_length(200)])
    version = _version_field()


class CancelForm(FlaskForm):
    reason = _reason_field(
        _l("Waarom gaat de afspraak niet door?"), CANCEL_REASONS, _l("Kies een reden.")
    )
    note = StringField(_l("Toelichting (mag leeg)"), filters=[strip], validators=[max_length(200)])
    version = _version_field()


class MoveForm(FlaskForm):
    occurred_at = DateTimeLocalField(
        _l("Nieuwe datum en uur"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        invalid_value_message=_l("Vul een datum en uur in, zoals 14-03-2026 10:30."),
        validators=[InputRequired(_l("Vul de nieuwe datum en het uur in."))],
    )
    version = _version_field()

    def validate_occurred_at(self, field: Any) -> None:
        if field.data is None:
            return
        when = to_utc(field.data)
        now = utcnow()
        if when < now - CLOCK_SLACK:
            raise ValidationError(
                _l("Dit moment is al voorbij. Gebeurde het contact al? Registreer het dan.")
            )
        if when > now + PLANNED_AHEAD:
            raise ValidationError(_l("Deze datum kan niet kloppen."))
