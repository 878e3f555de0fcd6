"""The reports' figures kept per month, so that a year's report reads a few hundred rows of
counts, never the year's cases, contacts and sessions (issue 15).

How they stay true:

- For each counted row (a case, a contact, a threshold, an activity session) `ReportCounted`
  keeps what it was last counted as: a short JSON list of the values the figures count it by.
  `ReportCount` holds the sums of those contributions, per figure, month (day, for sessions)
  and key.
- Triggers in the database (created by init-db and `db upgrade`, on both engines) put a row in
  the `ReportDirty` queue whenever something a figure counts by changes, however it changes:
  a form, a bulk update, an erasure, a cascade, a script. They only mark.
- `catch_up()` empties the queue: for each marked row it works out what the row counts as now,
  takes off what it counted as before, adds the new, and keeps the new key, in one
  transaction that no other catch-up runs beside. So a row is never counted twice, and a
  change made between two catch-ups is counted once by the next.
- The queue is emptied after every request that may have written (`webapp/reports`), by the
  reports themselves before they read, and by `flask --app wsgi reports catch-up` from cron.
  `recount()` throws the counts away and counts every row again (init-db of an old database,
  a restore, the benchmark's bulk loads).

Semantics the counts give (the report says them in its notes): periods are whole months in
Brussels time; a case counts by its attributes as they are now (service of its mediator,
district, step, domains), its age group by birth year (the age reached in the year the period
ends), as youth work counts ages; sessions count up to and including today."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

from peewee import (
    JOIN,
    SQL,
    AutoField,
    CharField,
    CompositeKey,
    DateField,
    IntegerField,
    PostgresqlDatabase,
    TextField,
    fn,
)

from webapp.db import BaseModel, alone, create_row_trigger, database, tuples_of
from webapp.models.cases import Case, Visit
from webapp.models.offer import Activity, Enrolment, Session
from webapp.models.people import Client, User
from webapp.models.referrals import Referral, ReferringOrganisation
from webapp.models.thresholds import CaseThreshold
from webapp.timeutil import to_local

NOW = dt.date(1970, 1, 1)  # the "day" of the counts of cases open now, which have no month
CHUNK = 2000  # rows worked out per query when counting
REPORT_LOCK = 7_153_001  # PostgreSQL advisory lock of the catch-up (the migrations use another)


class ReportCount(BaseModel):
    """How many rows count for `key` in `figure` in the month (or day) `day`.

    figure  day            key                                    n, minutes
    open    month opened   "alle:", "dienst:ocmw", "district:…",  cases opened
                           "geboren:2015", "domein:sport", "stap:3", "verwijzer:caw"
    dicht   month closed   the same keys, and "afloop:independent" cases closed
    nu      1970-01-01     the same keys                          cases open now
    contact month          the contact type                       contacts, their minutes
    drempel month noted    "<category id>|<status>|<signal 0/1>"  thresholds
    moment  month          "<domain>|<attendance>"                activity sessions
    momentdag  day         the same                               the same, per day"""

    figure = CharField(max_length=10)
    day = DateField()
    key = CharField(max_length=120)
    n = IntegerField(default=0)
    minutes = IntegerField(default=0)

    class Meta:
        table_name = "report_count"
        # Unique, for the upserts; and covering, so that a report reads only the index.
        indexes = (
            (("figure", "day", "key"), True),
            (("figure", "day", "key", "n", "minutes"), False),
        )


class ReportDirty(BaseModel):
    """A row whose contribution to the counts may have changed since it was counted (filled by
    the triggers)."""

    id = AutoField()
    kind = CharField(max_length=10)  # case | visit | threshold | session
    row_id = IntegerField()

    class Meta:
        table_name = "report_dirty"


class ReportCounted(BaseModel):
    """What a row was last counted as (its key: a short JSON list of the values the figures
    count it by). A table of its own, not a column of the row, so that no save of a model
    loaded earlier can write an old key back."""

    kind = CharField(max_length=10)
    row_id = IntegerField()
    key = TextField()

    class Meta:
        table_name = "report_counted"
        primary_key = CompositeKey("kind", "row_id")


def month_of(moment: dt.datetime) -> dt.date:
    """The first day of the Brussels month a stored (UTC) moment falls in."""
    return to_local(moment).date().replace(day=1)


# --- What a row counts as ----------------------------------------------------------------------


def case_keys(ids: list[int]) -> dict[int, str]:
    """The key of each case: [month opened, month closed or "", service, referrer kinds,
    district, birth year or "", domains, step, outcome] (three queries a chunk)."""
    rows = tuples_of(
        Case.select(
            Case.id,
            Case.opened_at,
            Case.closed_at,
            Case.current_position,
            Case.interests,
            Case.source,
            Case.outcome,
            User.service,
            Client.district,
            Client.birth_date,
        )
        .join(User, on=(Case.mediator == User.id))
        .switch(Case)
        .join(Client, on=(Case.client == Client.id))
        .where(Case.id.in_(ids))
    )
    kinds: dict[int, set[str]] = {}
    referred = tuples_of(
        Referral.select(Referral.case, ReferringOrganisation.kind)
        .join(ReferringOrganisation, JOIN.LEFT_OUTER)
        .where(Referral.case.in_(ids))
    )
    for case_id, kind in referred:
        kinds.setdefault(case_id, set()).add(kind or "")
    out = {}
    for case_id, opened, closed, step, interests, source, outcome, service, district, born in rows:
        # A referral without an organisation (a request through /vraag) counts by the case's
        # source, as does a case that no referral brought in.
        sources = sorted({k or source for k in kinds.get(case_id, {""})})
        out[case_id] = json.dumps(
            [
                month_of(opened).isoformat(),
                month_of(closed).isoformat() if closed else "",
                service or "",
                sources,
                district or "",
                str(born.year) if born else "",
                sorted({d for d in (interests or "").split(",") if d}),
                step,
                outcome or "" if closed else "",
            ],
            ensure_ascii=False,
        )
    return out


def visit_keys(ids: list[int]) -> dict[int, str]:
    """A recorded contact that was not removed: [month, contact type, minutes]; else ""."""
    rows = Visit.select(
        Visit.id,
        Visit.occurred_at,
        Visit.contact_type,
        Visit.duration_minutes,
        Visit.planned,
        Visit.removed_at,
    ).where(Visit.id.in_(ids))
    return {
        visit_id: ""
        if planned or removed
        else json.dumps([month_of(at).isoformat(), kind, minutes or 0])
        for visit_id, at, kind, minutes, planned, removed in tuples_of(rows)
    }


def threshold_keys(ids: list[int]) -> dict[int, str]:
    """[month noted, category id, status, signalled]."""
    rows = CaseThreshold.select(
        CaseThreshold.id,
        CaseThreshold.created_at,
        CaseThreshold.category,
        CaseThreshold.status,
        CaseThreshold.signal,
    ).where(CaseThreshold.id.in_(ids))
    return {
        threshold_id: json.dumps(
            [month_of(at).isoformat(), category, status, 1 if signal else 0], ensure_ascii=False
        )
        for threshold_id, at, category, status, signal in tuples_of(rows)
    }


def session_keys(ids: list[int]) -> dict[int, str]:
    """[day, domain of the activity, attendance]."""
    rows = (
        Session.select(Session.id, Session.starts_at, Activity.domain, Session.attendance)
        .join(Enrolment)
        .join(Activity)
        .where(Session.id.in_(ids))
    )
    return {
        session_id: json.dumps([to_local(at).date().isoformat(), domain, attendance or ""])
        for session_id, at, domain, attendance in tuples_of(rows)
    }


Entry = tuple[str, dt.date, str]  # figure, day, key


def entries(kind: str, key: str | None) -> Iterator[tuple[Entry, int]]:
    """What a row with this key adds to the counts: (figure, day, key) and minutes."""
    if not key:
        return
    values = json.loads(key)
    if kind == "visit":
        month, contact_type, minutes = values
        yield ("contact", dt.date.fromisoformat(month), contact_type), minutes
    elif kind == "threshold":
        month, category, status, signal = values
        yield ("drempel", dt.date.fromisoformat(month), f"{category}|{status}|{signal}"), 0
    elif kind == "session":
        # Per month, for the months before this one; and per day, for the month that holds
        # today, as the report counts sessions up to and including today.
        day, domain, attendance = values
        on = dt.date.fromisoformat(day)
        yield ("moment", on.replace(day=1), f"{domain}|{attendance}"), 0
        yield ("momentdag", on, f"{domain}|{attendance}"), 0
    else:
        opened, closed, service, sources, district, year, domains, step, outcome = values
        tags = ["alle:", f"dienst:{service}", f"district:{district}", f"geboren:{year}"]
        tags += [f"verwijzer:{s}" for s in sources]
        tags += [f"domein:{d}" for d in domains] or ["domein:"]
        tags.append(f"stap:{step}")
        for tag in tags:
            yield ("open", dt.date.fromisoformat(opened), tag), 0
            if closed:
                yield ("dicht", dt.date.fromisoformat(closed), tag), 0
            else:
                yield ("nu", NOW, tag), 0
        if closed:
            yield ("dicht", dt.date.fromisoformat(closed), f"afloop:{outcome}"), 0


COUNTED: dict[str, tuple[Any, Any]] = {
    "case": (Case, case_keys),
    "visit": (Visit, visit_keys),
    "threshold": (CaseThreshold, threshold_keys),
    "session": (Session, session_keys),
}


# --- Keeping the counts ------------------------------------------------------------------------


def counting_alone() -> AbstractContextManager[None]:
    """A transaction that no other catch-up or recount runs beside (db.alone)."""
    return alone(REPORT_LOCK)


def _apply(changes: Counter[Entry], minutes: Counter[Entry]) -> None:
    """Add the changes to the counts (an upsert per changed count, in chunks)."""
    rows = [
        {"figure": f, "day": d, "key": k, "n": n, "minutes": minutes[(f, d, k)]}
        for (f, d, k), n in changes.items()
        if n or minutes[(f, d, k)]
    ]
    for start in range(0, len(rows), 500):
        (
            ReportCount.insert_many(rows[start : start + 500])
            .on_conflict(
                conflict_target=[ReportCount.figure, ReportCount.day, ReportCount.key],
                update={
                    ReportCount.n: ReportCount.n + SQL("excluded.n"),
                    ReportCount.minutes: ReportCount.minutes + SQL("excluded.minutes"),
                },
            )
            .execute()
        )


def _recount_rows(kind: str, ids: Iterable[int], never_counted: bool = False) -> None:
    """Count these rows of one kind as they are now instead of as they were last counted (a
    row gone: not at all). `never_counted`: the caller knows none of them was (a count from
    nothing), so what they were counted as is not looked up: inside one long transaction
    PostgreSQL would plan that lookup for the empty table it was, and read every row added
    since, chunk after chunk."""
    _model, keys_of = COUNTED[kind]
    changes: Counter[Entry] = Counter()
    minutes: Counter[Entry] = Counter()

    def add(key: str | None, sign: int) -> None:
        for entry, spent in entries(kind, key):
            changes[entry] += sign
            minutes[entry] += sign * spent

    ids = sorted(ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        counted = ReportCounted.select(ReportCounted.row_id, ReportCounted.key).where(
            ReportCounted.kind == kind, ReportCounted.row_id.in_(chunk)
        )
        stored: dict[int, str] = {} if never_counted else dict(tuples_of(counted))
        now: dict[int, str] = keys_of(chunk)
        gone = [i for i in chunk if i in stored and i not in now]
        fresh: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for row_id, key in now.items():
            if stored.get(row_id) == key:
                continue
            add(stored.get(row_id), -1)
            add(key, +1)
            (changed if row_id in stored else fresh).append(
                {"kind": kind, "row_id": row_id, "key": key}
            )
        for row_id in gone:
            add(stored[row_id], -1)
        if gone:
            ReportCounted.delete().where(
                ReportCounted.kind == kind, ReportCounted.row_id.in_(gone)
            ).execute()
        if changed:  # one statement for all: delete and insert again
            ReportCounted.delete().where(
                ReportCounted.kind == kind,
                ReportCounted.row_id.in_([r["row_id"] for r in changed]),
            ).execute()
        rows = fresh + changed
        for at in range(0, len(rows), 500):
            ReportCounted.insert_many(rows[at : at + 500]).execute()
    _apply(changes, minutes)


def catch_up(limit: int | None = None, wait: bool = True) -> int:
    """Count what the queue marks, oldest first (all of it, or the first `limit`); returns
    how many marks it took. `wait=False`: give up at once when another catch-up is running
    (after a request: that one counts these marks too, or the next one will)."""
    if not ReportDirty.select(ReportDirty.id).exists():  # the usual case: no lock needed
        return 0
    if not wait and isinstance(database.obj, PostgresqlDatabase):
        with database.atomic():
            locked = database.execute_sql("SELECT pg_try_advisory_xact_lock(%s)", (REPORT_LOCK,))
            if not locked.fetchone()[0]:
                return 0
            return _catch_up(limit)
    with counting_alone():
        return _catch_up(limit)


def _catch_up(limit: int | None) -> int:
    """Take the marks a batch at a time, and delete exactly the marks read: on PostgreSQL a
    mark with a lower id can become visible after a higher one (its transaction commits
    later), so "every mark up to the last id read" could delete one never counted."""
    taken = 0
    while limit is None or taken < limit:
        batch = CHUNK if limit is None else min(CHUNK, limit - taken)
        marks = tuples_of(
            ReportDirty.select(ReportDirty.id, ReportDirty.kind, ReportDirty.row_id)
            .order_by(ReportDirty.id)
            .limit(batch)
        )
        if not marks:
            break
        by_kind: dict[str, set[int]] = {}
        for _id, kind, row_id in marks:
            by_kind.setdefault(kind, set()).add(row_id)
        for kind, ids in by_kind.items():
            if kind in COUNTED:
                _recount_rows(kind, ids)
        ReportDirty.delete().where(ReportDirty.id.in_([m[0] for m in marks])).execute()
        taken += len(marks)
    return taken


def recount() -> int:
    """Count every row again from nothing (see the module's docstring); returns the rows."""
    total = 0
    with counting_alone():
        for model in (ReportDirty, ReportCount, ReportCounted):
            model.delete().execute()
        for kind, (model, _keys_of) in COUNTED.items():
            ids = [i for (i,) in tuples_of(model.select(model.id))]
            _recount_rows(kind, ids, never_counted=True)
            total += len(ids)
    return total


def count_uncounted() -> int:
    """Count the rows never counted (written before the counts existed); init-db and `db
    upgrade` run it, so an upgraded database reports from its first request. Idempotent."""
    total = 0
    with counting_alone():
        for kind, (model, _keys_of) in COUNTED.items():
            # NOT EXISTS, not NOT IN: PostgreSQL runs NOT IN of a subquery too large for its
            # memory once per row (hours on a million contacts); this is an anti-join.
            counted = ReportCounted.select(SQL("1")).where(
                ReportCounted.kind == kind, ReportCounted.row_id == model.id
            )
            uncounted = model.select(model.id).where(~fn.EXISTS(counted))
            ids = [i for (i,) in tuples_of(uncounted)]
            _recount_rows(kind, ids, never_counted=True)
            total += len(ids)
    return total


# --- The triggers that mark --------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A trigger: when `columns` of a row of `table` change (or a row comes or goes), mark
    the rows of `kind` that `related` selects (SQL with `R` for the changed row and one column
    named id), or the row itself when there is none. The columns name only what a key is made
    of, never report_key, so that storing a key marks nothing."""

    table: str
    columns: tuple[str, ...]
    kind: str
    related: str | None = None
    moves: bool = False  # the relation itself can change: mark the old row's related ones too


MARKERS = [
    Marker(
        "cases",
        (
            *("opened_at", "closed_at", "current_position", "interests", "source", "outcome"),
            *("mediator_id", "client_id"),
        ),
        "case",
    ),
    Marker(
        "visit",
        ("occurred_at", "contact_type", "duration_minutes", "planned", "removed_at"),
        "visit",
    ),
    Marker("case_threshold", ("created_at", "category_id", "status", "signal"), "threshold"),
    Marker("activity_sessions", ("starts_at", "attendance", "enrolment_id"), "session"),
    Marker(
        "client",
        ("district", "birth_date"),
        "case",
        'SELECT id FROM "cases" WHERE client_id = R.id',
    ),
    Marker("users", ("service",), "case", 'SELECT id FROM "cases" WHERE mediator_id = R.id'),
    Marker(
        "referral",
        ("case_id", "organisation_id"),
        "case",
        "SELECT R.case_id AS id WHERE R.case_id IS NOT NULL",
        moves=True,
    ),
    Marker(
        "referring_organisation",
        ("kind",),
        "case",
        "SELECT case_id AS id FROM referral WHERE organisation_id = R.id AND case_id IS NOT NULL",
    ),
    Marker(
        "enrolment",
        ("activity_id",),
        "session",
        'SELECT id FROM "activity_sessions" WHERE enrolment_id = R.id',
    ),
    Marker(
        "activity",
        ("domain",),
        "session",
        'SELECT s.id FROM "activity_sessions" s JOIN enrolment e ON s.enrolment_id = e.id '
        "WHERE e.activity_id = R.id",
    ),
]


def _marks(marker: Marker, event: str, row: str) -> str:
    """The statements a trigger runs for one event (insert, update or delete) of `row`."""

    def mark(row: str) -> str:
        # Every name comes from MARKERS, none from a request.
        if marker.related is None:
            return (
                "INSERT INTO report_dirty (kind, row_id) "  # noqa: S608
                f"VALUES ('{marker.kind}', {row}.id);"
            )
        related = marker.related.replace("R.", f"{row}.")
        return (
            "INSERT INTO report_dirty (kind, row_id) "  # noqa: S608
            f"SELECT '{marker.kind}', m.id FROM ({related}) AS m;"
        )

    if event == "update" and marker.moves:
        return mark("OLD") + " " + mark(row)
    return mark(row)


def create_report_triggers(db: Any) -> list[str]:
    """The marking triggers of MARKERS, on SQLite or PostgreSQL; idempotent."""
    made = []
    with db.atomic():
        for marker in MARKERS:
            name = f"trg_report_{marker.table}"
            create_row_trigger(db, name, marker.table, marker.columns, partial(_marks, marker))
            made.append(name)
    return made


REPORT_MODELS = [ReportCount, ReportCounted, ReportDirty]
