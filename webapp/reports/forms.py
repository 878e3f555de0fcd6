"""The report period, read from the query string as a form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field
from wtforms.validators import Optional, ValidationError

from webapp.forms import QueryForm
from webapp.reports.figures import MAX_MONTHS, Period
from webapp.timeutil import local_today

EARLIEST = dt.date(2000, 1, 1)


def first_of_this_year() -> dt.date:
    return local_today().replace(month=1, day=1)


class PeriodForm(QueryForm):
    """The period of the figures: the whole months from the month of `start` to the month of
    `end`, this year up to this month unless another one is asked for. When one of the dates
    cannot be, the page says so and shows the default period."""

    start = DateField(
        default=first_of_this_year,
        validators=[Optional()],
        invalid_value_message=_l("Dit is geen datum."),
    )
    end = DateField(
        default=local_today,
        validators=[Optional()],
        invalid_value_message=_l("Dit is geen datum."),
    )

    def __init__(self, args: Any) -> None:
        super().__init__(args)
        self.read()

    def validate_start(self, field: Field) -> None:
        _plausible(field.data)

    def validate_end(self, field: Field) -> None:
        _plausible(field.data)
        start = self.start.data
        if self.start.errors or start is None or field.data is None:
            return
        if start > field.data:
            raise ValidationError(_l("Het einde ligt voor het begin."))
        if len(Period.whole_months(start, field.data).months()) > MAX_MONTHS:
            raise ValidationError(_l("Kies een periode van hoogstens %(n)d maanden.", n=MAX_MONTHS))

    @property
    def period(self) -> Period:
        """The whole months asked for, or (when they cannot be) this year up to this month."""
        if self.errors:
            return Period.whole_months(first_of_this_year(), local_today())
        return Period.whole_months(self.start.data, self.end.data)

    @property
    def messages(self) -> dict[str, str]:
        """The first error of each date, by field name."""
        return {name: str(errors[0]) for name, errors in self.errors.items()}


def _plausible(day: dt.date | None) -> None:
    if day is not None and not EARLIEST <= day <= dt.date(local_today().year + 1, 12, 31):
        raise ValidationError(_l("Deze datum kan niet kloppen."))
