"""The forms of the offer: providers, activities, enrolling a client, attendance, stopping."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from webapp.forms import (
    CheckboxesField,
    EmailAddress,
    Optional,
    max_length,
    options,
    parse_int,
    phone_number,
    postcode,
    strip,
)
from webapp.models import (
    COST_ARRANGEMENTS,
    DISTRICTS,
    DOMAINS,
    MEETING_POINTS,
    STOP_REASONS,
    THINGS_TO_BRING,
)
from webapp.timeutil import local_today

MONEY_RE = re.compile(r"^€?\s*(\d{1,5})(?:[.,](\d{1,2}))?$")


class MoneyField(StringField):
    """An amount in euro typed as '12', '12,50' or '€ 12.5', kept in cents."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw:
            return
        match = MONEY_RE.match(self.raw.replace(" ", ""))
        if not match:
            raise ValueError(_l("Typ een bedrag in euro, bijvoorbeeld 12,50."))
        euros, cents = match.group(1), (match.group(2) or "0").ljust(2, "0")
        self.data = int(euros) * 100 + int(cents)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        euros, cents = divmod(int(self.data), 100)
        return f"{euros},{cents:02d}" if cents else str(euros)


def int_or_none(value: Any) -> int | None:
    return parse_int(value)


def district_choices(blank: str) -> list[tuple[str, str]]:
    return options([("", blank), *((d, d) for d in DISTRICTS)])


class ProviderForm(FlaskForm):
    name = StringField(
        _l("Naam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de naam in.")), max_length(120)],
    )
    kind = StringField(
        _l("Soort (club, zwembad, academie …)"), filters=[strip], validators=[max_length(60)]
    )
    contact_name = StringField(_l("Contactpersoon"), filters=[strip], validators=[max_length(100)])
    phone = StringField(
        _l("Telefoon"), filters=[strip], validators=[Optional(), phone_number(), max_length(30)]
    )
    email = EmailField(
        _l("E-mailadres"), filters=[strip], validators=[EmailAddress(), max_length(254)]
    )
    street = StringField(_l("Straat en nummer"), filters=[strip], validators=[max_length(120)])
    postcode = StringField(_l("Postcode"), filters=[strip], validators=[postcode()])
    district = SelectField(_l("District"), choices=district_choices("—"), default="")
    version = IntegerField(default=1)


class ActivityForm(FlaskForm):
    provider = SelectField(_l("Aanbieder"), coerce=int_or_none, validate_choice=False)
    title = StringField(
        _l("Titel"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de titel in.")), max_length(120)],
    )
    domain = RadioField(
        _l("Domein"),
        choices=options(DOMAINS),
        validators=[InputRequired(_l("Kies sport, cultuur of jeugd."))],
    )
    description = TextAreaField(_l("Beschrijving"), filters=[strip], validators=[max_length(2000)])
    age_min = IntegerField(
        _l("Vanaf leeftijd"),
        validators=[Optional(), NumberRange(0, 120, _l("Een leeftijd tussen 0 en 120."))],
    )
    age_max = IntegerField(
        _l("Tot leeftijd"),
        validators=[Optional(), NumberRange(0, 120, _l("Een leeftijd tussen 0 en 120."))],
    )
    street = StringField(_l("Straat en nummer"), filters=[strip], validators=[max_length(120)])
    postcode = StringField(_l("Postcode"), filters=[strip], validators=[postcode()])
    district = SelectField(_l("District"), choices=district_choices("—"), default="")
    schedule = StringField(
        _l("Wanneer"),
        filters=[strip],
        validators=[max_length(200)],
        description=_l("Bijvoorbeeld: woensdag 14–16 uur, tijdens het schooljaar"),
    )
    price_full = MoneyField(
        _l("Volle prijs (€)"),
        validators=[InputRequired(_l("Vul de prijs in (0 als het gratis is)."))],
    )
    price_reduced = MoneyField(
        _l("Kansentarief / UiTPAS (€)"),
        description=_l("Leeg laten als er geen verminderd tarief is."),
    )
    # Common things as keys, so the client's page says them in the client's language.
    bring = CheckboxesField(
        _l("Meebrengen (de cliënt leest dit in de eigen taal)"),
        choices=options(THINGS_TO_BRING),
        validate_choice=False,
    )
    what_to_bring = StringField(
        _l("Nog iets meebrengen (in het Nederlands)"),
        filters=[strip],
        validators=[max_length(300)],
    )
    accessibility = StringField(
        _l("Toegankelijkheid"), filters=[strip], validators=[max_length(300)]
    )
    version = IntegerField(default=1)

    def validate_provider(self, field: Field) -> None:
        if field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError(_l("Kies een aanbieder."))

    def validate_age_max(self, field: Field) -> None:
        if (
            field.data is not None
            and self.age_min.data is not None
            and field.data < self.age_min.data
        ):
            raise ValidationError(_l("De hoogste leeftijd is kleiner dan de laagste."))

    def validate_price_reduced(self, field: Field) -> None:
        full = self.price_full.data
        if field.data is not None and full is not None and field.data > full:
            raise ValidationError(_l("Het kansentarief is hoger dan de volle prijs."))


class SearchForm(FlaskForm):
    """The filters of the activity list (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Zoeken"), filters=[strip], validators=[max_length(100)])
    domain = SelectField(
        _l("Domein"),
        choices=options([("", _l("alle domeinen")), *DOMAINS.items()]),
        default="",
    )
    age = IntegerField(
        _l("Leeftijd"),
        validators=[Optional(), NumberRange(0, 120, _l("Een leeftijd tussen 0 en 120."))],
    )
    district = SelectField(
        _l("District"), choices=district_choices(_l("alle districten")), default=""
    )
    max_price = MoneyField(_l("Maximum prijs (€)"))
    reduced = BooleanField(_l("Kansentarief mogelijk"))


DEFAULT_SESSION_MINUTES = 90


class EnrolForm(FlaskForm):
    cost_arrangement = RadioField(
        _l("Kosten"),
        choices=options(COST_ARRANGEMENTS),
        validators=[InputRequired(_l("Kies hoe de kosten geregeld zijn."))],
    )
    first_date = DateField(
        _l("Eerste keer: datum"),
        validators=[InputRequired(_l("Kies de datum van de eerste keer."))],
    )
    first_time = TimeField(_l("Uur"), validators=[InputRequired(_l("Kies het uur."))])
    duration_minutes = IntegerField(
        _l("Duur (minuten)"),
        default=DEFAULT_SESSION_MINUTES,
        validators=[
            InputRequired(_l("Vul de duur in.")),
            NumberRange(15, 600, _l("Tussen 15 en 600 minuten.")),
        ],
    )
    meeting_point_key = RadioField(
        _l("Afspraakplaats (de cliënt leest dit in de eigen taal)"),
        choices=options([("", _l("geen van deze")), *MEETING_POINTS.items()]),
        default="",
        validate_choice=False,
    )
    meeting_point = StringField(
        _l("Meer over de afspraakplaats (in het Nederlands)"),
        filters=[strip],
        validators=[max_length(200)],
        description=_l("Bijvoorbeeld: aan de zijdeur, ik wacht op je"),
    )
    go_along = BooleanField(_l("Ik ga mee de eerste keer"))
    weekly = IntegerField(
        _l("Daarna elke week, zoveel keer"),
        default=0,
        validators=[Optional(), NumberRange(0, 20, _l("Tussen 0 en 20 keer."))],
    )

    def __init__(
        self, *args: Any, reduced_possible: bool = True, free: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if free:
            # Nothing to pay: "gratis" is the only true answer, so it is not asked for.
            self.cost_arrangement.choices = options({"free": COST_ARRANGEMENTS["free"]})
            self.cost_arrangement.validators = []
            self.cost_arrangement.data = "free"
        elif not reduced_possible:
            self.cost_arrangement.choices = options(
                (k, v) for k, v in COST_ARRANGEMENTS.items() if k != "reduced"
            )

    def validate_first_date(self, field: Field) -> None:
        if field.data is None:
            return
        if field.data < local_today():
            raise ValidationError(_l("Deze datum is al voorbij."))
        if field.data > local_today() + dt.timedelta(days=366):
            raise ValidationError(_l("Deze datum ligt meer dan een jaar ver."))


class AttendanceForm(FlaskForm):
    attendance = RadioField(
        _l("Aanwezigheid"),
        choices=options([("present", _l("Aanwezig")), ("absent", _l("Niet aanwezig"))]),
        validators=[InputRequired(_l("Kies aanwezig of niet aanwezig."))],
    )
    remark = StringField(_l("Opmerking"), filters=[strip], validators=[max_length(300)])


class StopForm(FlaskForm):
    reason = SelectField(
        _l("Waarom stopt de inschrijving?"),
        choices=options([("", _l("Kies een reden")), *STOP_REASONS.items()]),
        validators=[DataRequired(_l("Kies een reden."))],
    )
    note = StringField(_l("Korte uitleg"), filters=[strip], validators=[max_length(200)])
