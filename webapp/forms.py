"""The forms toolkit every area uses: choices, a check-box group, the text filter, validators
and the parsing of numbers, with messages in plain Dutch. An area's forms (`<area>/forms.py`)
are WTForms classes built from these; query-string filters are forms too (GET forms with
`formdata=request.args` and no CSRF token)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.timeutil import LOCAL, local_today

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ./()-]{6,20}$")


class EmailAddress:
    """A plausible e-mail address (no DNS look-up, no extra package)."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not EMAIL_RE.match(field.data.strip()):
            raise ValidationError(_l("Dit is geen e-mailadres."))


def phone_number() -> Regexp:
    return Regexp(PHONE_RE, message=_l("Een telefoonnummer heeft alleen cijfers, spaties en +."))


def postcode() -> Regexp:
    return Regexp(r"^(\d{4})?$", message=_l("Een postcode heeft 4 cijfers."))


def max_length(n: int) -> Length:
    return Length(max=n, message=_l("Maximaal %(max)d tekens.", max=n))


class NotInFuture:
    """A date or time that has already happened (birth dates, visits that took place)."""

    def __init__(self, message: Any = None) -> None:
        self.message = message or _l("Deze datum ligt in de toekomst.")

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data
        if value is None:
            return
        if isinstance(value, dt.datetime):
            now: dt.date = dt.datetime.now(LOCAL).replace(tzinfo=None)  # the form's wall clock
        else:
            now = local_today()
        if value > now:
            raise ValidationError(self.message)


class Plausible:
    """A date within a sensible range (no birth date in 1066, no due date in 2999)."""

    def __init__(self, earliest: dt.date, latest_years_ahead: int = 5) -> None:
        self.earliest, self.years = earliest, latest_years_ahead

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data
        if value is None:
            return
        day = value.date() if isinstance(value, dt.datetime) else value
        latest = local_today() + dt.timedelta(days=365 * self.years)
        if day < self.earliest or day > latest:
            raise ValidationError(_l("Deze datum kan niet kloppen."))


# The largest id or counter a form or query string may name: PostgreSQL's `integer` (ids are
# `serial`). A bigger number is no record of ours, and would overflow the database driver.
MAX_INT = 2**31 - 1


def parse_int(value: Any, maximum: int = MAX_INT) -> int | None:
    """A whole number typed in a form or query string, or None. Plain ASCII digits only:
    "²" passes str.isdigit() but int() refuses it."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


def differences(form: Form, stored: Any, names: list[str]) -> list[tuple[str, str, str]]:
    """For a stale edit (409): each field where this input differs from what is stored now, as
    (label, this input, stored), the values as the form shows them."""
    rows = []
    for name in names:
        field = form[name]
        if field.data != getattr(stored, name):
            rows.append(
                (
                    str(field.label.text),
                    _shown(field, field.data),
                    _shown(field, getattr(stored, name)),
                )
            )
    return rows


def _shown(field: Field, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("ja") if value else _l("nee"))
    for choice in getattr(field, "choices", None) or []:
        choice_value, label = (choice.value, choice.label) if hasattr(choice, "value") else choice
        if choice_value == value:
            return str(label)
    return str(value)


def strip(value: Any) -> Any:
    """A filter that trims white space from text input; a text field left out of the request
    counts as empty (""), so a hostile request that leaves a field out stores no NULL."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def options(pairs: Any) -> list[SelectChoice]:
    """Choices for a select, radio or check-box field from (value, label) pairs or a dict
    (WTForms deprecates tuples)."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class QueryForm(Form):
    """A form read from the query string (search, filters, a period). GET changes nothing, so
    it carries no CSRF token. `read()` validates it and gives every field that is invalid or
    left out its default: a stale bookmark or a hand-typed address still opens the page, and
    the errors stay on the fields for a page that shows them."""

    def read(self) -> bool:
        valid = self.validate()
        for field in self:
            if field.errors or field.data is None:
                field.data = field.default() if callable(field.default) else field.default
        return valid


class CheckboxesField(SelectMultipleField):
    """Several choices as a group of check boxes (the `radios` macro shows it as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


__all__ = [
    "CheckboxesField",
    "EmailAddress",
    "NotInFuture",
    "Optional",
    "Plausible",
    "QueryForm",
    "differences",
    "max_length",
    "options",
    "parse_int",
    "phone_number",
    "postcode",
    "strip",
]
