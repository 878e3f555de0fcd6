"""The forms of the cases area: a new client with a case, the client's details, closing a case,
changing a step and reassigning, each with Dutch messages next to the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, ValidationError

from webapp.forms import (
    CheckboxesField,
    EmailAddress,
    NotInFuture,
    Optional,
    Plausible,
    QueryForm,
    max_length,
    options,
    parse_int,
    phone_number,
    postcode,
    strip,
)
from webapp.models import (
    CARD_TYPES,
    CASE_SOURCES,
    CASE_STATUSES,
    DISTRICTS,
    DOMAINS,
    LANGUAGES,
    OUTCOMES,
    STOP_REASONS,
)

INVALID_CHOICE = _l("Kies een van de mogelijkheden.")
INVALID_DATE = _l("Typ een datum, bijvoorbeeld 14-03-2012.")
EARLIEST_BIRTH = dt.date(1900, 1, 1)


def birth_date_field() -> DateField:
    return DateField(
        _l("Geboortedatum"),
        validators=[
            Optional(),
            NotInFuture(_l("Een geboortedatum ligt niet in de toekomst.")),
            Plausible(EARLIEST_BIRTH),
        ],
        invalid_value_message=INVALID_DATE,
    )


def district_field() -> SelectField:
    return SelectField(
        _l("District"),
        choices=options([("", _l("— onbekend —")), *((d, d) for d in DISTRICTS)]),
        default="",
        invalid_choice_message=INVALID_CHOICE,
    )


def language_field() -> SelectField:
    return SelectField(
        _l("Voorkeurstaal"),
        choices=options(LANGUAGES),
        default="nl",
        invalid_choice_message=INVALID_CHOICE,
    )


def first_name_field() -> StringField:
    return StringField(
        _l("Voornaam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de voornaam in.")), max_length(80)],
    )


def last_name_field() -> StringField:
    return StringField(
        _l("Familienaam"),
        filters=[strip],
        validators=[DataRequired(_l("Vul de familienaam in.")), max_length(80)],
    )


def phone_field() -> TelField:
    return TelField(
        _l("Telefoon"), filters=[strip], validators=[Optional(), phone_number(), max_length(30)]
    )


class NewCaseForm(FlaskForm):
    first_name = first_name_field()
    last_name = last_name_field()
    birth_date = birth_date_field()
    phone = phone_field()
    district = district_field()
    language = language_field()
    question = TextAreaField(
        _l("Vraag"), filters=[strip], validators=[Optional(), max_length(2000)]
    )
    interests = CheckboxesField(
        _l("Interesse"), choices=options(DOMAINS), invalid_choice_message=INVALID_CHOICE
    )
    source = RadioField(
        _l("Hoe kwam de vraag binnen?"),
        choices=options(CASE_SOURCES),
        default="doorverwijzing",
        validators=[InputRequired(_l("Kies hoe de vraag binnenkwam."))],
        invalid_choice_message=INVALID_CHOICE,
    )
    mediator = SelectField(
        _l("Bemiddelaar"), coerce=int, validate_choice=True, invalid_choice_message=INVALID_CHOICE
    )
    create_anyway = BooleanField(_l("Toch een nieuwe cliënt maken"))

    def client_fields(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name.data,
            "last_name": self.last_name.data,
            "birth_date": self.birth_date.data,
            "phone": self.phone.data or "",
            "district": self.district.data or "",
            "language": self.language.data,
        }


class ClientForm(FlaskForm):
    """All the client's details (never a diagnosis or a national number)."""

    version = HiddenField()
    first_name = first_name_field()
    last_name = last_name_field()
    birth_date = birth_date_field()
    phone = phone_field()
    email = EmailField(
        _l("E-mail"), filters=[strip], validators=[Optional(), EmailAddress(), max_length(254)]
    )
    street = StringField(
        _l("Straat en nummer"), filters=[strip], validators=[Optional(), max_length(120)]
    )
    postcode = StringField(_l("Postcode"), filters=[strip], validators=[Optional(), postcode()])
    district = district_field()
    language = language_field()
    needs_interpreter = BooleanField(_l("Tolk nodig"))
    household_note = TextAreaField(
        _l("Gezin"),
        filters=[strip],
        validators=[Optional(), max_length(1000)],
        description=_l("Wie woont er mee? Geen medische gegevens."),
    )
    card_type = SelectField(
        _l("Kansentarief"),
        choices=options(CARD_TYPES),
        default="",
        invalid_choice_message=INVALID_CHOICE,
    )
    card_valid_until = DateField(
        _l("Geldig tot"),
        validators=[Optional(), Plausible(dt.date(2000, 1, 1), latest_years_ahead=10)],
        invalid_value_message=INVALID_DATE,
    )

    FIELDS = (
        "first_name",
        "last_name",
        "birth_date",
        "phone",
        "email",
        "street",
        "postcode",
        "district",
        "language",
        "needs_interpreter",
        "household_note",
        "card_type",
        "card_valid_until",
    )

    def values(self) -> dict[str, Any]:
        values = {name: getattr(self, name).data for name in self.FIELDS}
        for name, value in values.items():
            if value is None and name not in (
                "birth_date",
                "card_valid_until",
                "needs_interpreter",
            ):
                values[name] = ""
        if not values["card_type"]:
            values["card_valid_until"] = None
        return values

    def validate_card_valid_until(self, field: DateField) -> None:
        if field.data and not self.card_type.data:
            raise ValidationError(_l("Kies eerst een kaart, of laat de datum leeg."))


class StepForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])
    status = SelectField(
        choices=options([("done", ""), ("skipped", ""), ("todo", "")]),
        invalid_choice_message=INVALID_CHOICE,
    )
    note = StringField(_l("Notitie (mag leeg)"), filters=[strip], validators=[max_length(500)])
    expanded = HiddenField()


class CloseForm(FlaskForm):
    version = HiddenField()
    outcome = RadioField(
        _l("Hoe loopt het af?"),
        choices=options(OUTCOMES),
        validators=[InputRequired(_l("Kies hoe het dossier afloopt."))],
        invalid_choice_message=INVALID_CHOICE,
    )
    reason = SelectField(
        _l("Reden van stoppen"),
        choices=options([("", _l("— kies een reden —")), *STOP_REASONS.items()]),
        default="",
        invalid_choice_message=INVALID_CHOICE,
    )
    note = TextAreaField(_l("Notitie"), filters=[strip], validators=[Optional(), max_length(1000)])

    def validate_reason(self, field: SelectField) -> None:
        if self.outcome.data == "stopped" and not field.data:
            raise ValidationError(_l("Kies waarom de cliënt stopte."))


class VersionForm(FlaskForm):
    """A button that changes a case (reopen): only the version it was shown with."""

    version = HiddenField()


class AssignForm(FlaskForm):
    version = HiddenField()
    mediator = SelectField(
        _l("Nieuwe bemiddelaar"),
        coerce=int,
        validators=[InputRequired(_l("Kies een bemiddelaar."))],
        invalid_choice_message=INVALID_CHOICE,
    )


def parse_version(value: Any) -> int | None:
    """The case or client version a form was shown with (None when missing or garbled)."""
    return parse_int(value)


class AnonymiseForm(FlaskForm):
    confirm = BooleanField(
        _l("Ik begrijp dat dit niet ongedaan kan worden."),
        validators=[DataRequired(_l("Vink aan dat je het begrijpt."))],
    )


def _first_100(text: str) -> str:
    return text[:100]


def _page_number(number: int | None) -> int:
    return max(1, min(number or 1, 400))


class CaseloadFilters(QueryForm):
    """The caseload's search and filters as the query string gives them; a value that is not
    one of the choices is the default again (the mediator's own open cases, page 1)."""

    q = StringField(filters=[strip, _first_100])
    status = SelectField(choices=options([(s, s) for s in (*CASE_STATUSES, "all")]), default="open")
    step = SelectField(coerce=parse_int, validators=[Optional()], default=None)
    who = SelectField(default="mine")
    page = IntegerField(filters=[_page_number], default=1)

    def __init__(self, args: Any, steps: list[Any], mediators: list[Any], team: bool) -> None:
        """`team`: the user may look at everyone's cases (a coordinator), and at those of each
        of `mediators`; a mediator sees only "mine"."""
        super().__init__(args)
        self.step.choices = options((s.position, s.position) for s in steps)
        whose = ["mine", "all", *(str(m.id) for m in mediators)] if team else ["mine"]
        self.who.choices = options((w, w) for w in whose)
        self.read()

    def mediator_id(self, user_id: int) -> int | None:
        """Whose cases: the user's own, one colleague's, or everyone's (None)."""
        if self.who.data == "mine":
            return user_id
        return None if self.who.data == "all" else parse_int(self.who.data)

    def link_args(self) -> dict[str, Any]:
        """The filters that differ from the default, for the page's links (short addresses)."""
        defaults = {("status", "open"), ("who", "mine")}
        return {k: v for k, v in self.chosen().items() if v and (k, v) not in defaults}

    def chosen(self) -> dict[str, Any]:
        """The filters as the page shows them and puts them in its links."""
        return {
            "q": self.q.data,
            "status": self.status.data,
            "step": self.step.data or "",
            "who": self.who.data,
        }
