"""Demo: two clients whose closed cases reach their retention term within the month, so the
coordinator's "Te wissen" list shows what it does; their whole history moves back in time."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any, cast

from webapp.db import BaseModel
from webapp.models import Case, CaseEvent, CaseStep, Task, Visit
from webapp.models.privacy import months_before, retention_months
from webapp.timeutil import utcnow

# Days before the term: one due in a week and a half, one in three weeks.
DAYS_LEFT = (10, 21)


def _shift(model: type[BaseModel], field: str, where: object, by: dt.timedelta) -> None:
    """Move one date column of the matching rows back by `by` (row by row: portable)."""
    column = getattr(model, field)
    rows = cast("Iterable[tuple[int, Any]]", model.select(model.id, column).where(where).tuples())
    for row_id, value in rows:
        if value is not None:
            model.update({column: value - by}).where(model.id == row_id).execute()


def seed(rng: random.Random, case_list: list[Case]) -> None:
    """Move the history of two clients whose only case is closed back to just before the term."""
    clients_with_open = Case.select(Case.client).where(Case.status == "open")
    candidates = list(
        Case.select().where(Case.status == "closed", Case.client.not_in(clients_with_open))
    )
    rng.shuffle(candidates)
    months = retention_months()["closed_case"]
    now = utcnow()
    for case, days_left in zip(candidates, DAYS_LEFT, strict=False):
        target = months_before(now, months) + dt.timedelta(days=days_left)
        by = case.closed_at - target  # type: ignore[operator]  # a closed case has closed_at
        mine = Case.id == case.id
        for field in ("opened_at", "closed_at", "updated_at"):
            _shift(Case, field, mine, by)
        for field in ("occurred_at", "created_at", "recorded_at"):
            _shift(Visit, field, Visit.case == case.id, by)
        for field in ("created_at", "done_at"):
            _shift(Task, field, Task.case == case.id, by)
        _shift(CaseEvent, "at", CaseEvent.case == case.id, by)
        _shift(CaseStep, "changed_at", CaseStep.case == case.id, by)
