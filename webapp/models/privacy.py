"""Erasing a client's personal data on request (GDPR, "recht op vergetelheid") or when its
retention period is over, while the team's anonymous figures keep counting: the person becomes
"Anoniem <id>", every free text about them is emptied, and what reports count (district, year of
birth, steps, outcomes, contact types, threshold categories, attendance) stays.

How long each kind of data is kept (README, "Bewaartermijnen"): RETENTION_MONTHS, each
overridable by its environment variable."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, cast

from peewee import (
    JOIN,
    CharField,
    DateTimeField,
    Field,
    ForeignKeyField,
    SqliteDatabase,
    chunked,
    fn,
)

from webapp.db import BaseModel, create_row_trigger, database, tuples_of
from webapp.models.audit import AuditEvent
from webapp.models.cases import (
    Case,
    CaseEvent,
    CaseStep,
    OpenCaseSearch,
    StepDefinition,
    Visit,
    step_label,
)
from webapp.models.links import AccessLink
from webapp.models.messages import Message
from webapp.models.offer import Activity, Enrolment, Session
from webapp.models.people import ANONYMOUS_FIRST_NAME, Client, LoginSession, Throttle, User
from webapp.models.referrals import Referral, ReferringOrganisation
from webapp.models.search import purge_erased_text
from webapp.models.security import SecurityEvent
from webapp.models.tasks import Task
from webapp.models.thresholds import CaseThreshold, ThresholdCategory, threshold_category_label
from webapp.timeutil import utcnow

# Months each kind of data is kept by default, and the environment variable that changes it.
RETENTION_MONTHS = {
    # A closed case's personal data: long enough to help someone who comes back (most return
    # within a season or two) and to answer questions about last year's work.
    "closed_case": (24, "VRIJBAAN_KEEP_CLOSED_CASE_MONTHS"),
    # A referral that was declined or never accepted: no case ever started.
    "referral": (6, "VRIJBAAN_KEEP_REFERRAL_MONTHS"),
    # An expired or revoked link: only to answer "why does my link not work?".
    "link": (3, "VRIJBAAN_KEEP_LINK_MONTHS"),
    # The security log: a year of attempts, to see patterns and answer an incident.
    "security_log": (12, "VRIJBAAN_KEEP_SECURITY_LOG_MONTHS"),
}
# Throttle rows are dead once their window (15 minutes at most) is long over.
THROTTLE_DEAD_AFTER = dt.timedelta(days=1)
# What the "Te wissen" list shows ahead, and how long "bewaar nog" postpones.
DUE_AHEAD = dt.timedelta(days=30)
HOLD_MONTHS = 6


def retention_months() -> dict[str, int]:
    """The months each kind of data is kept: the environment's value, else the default."""
    months = {}
    for kind, (default, variable) in RETENTION_MONTHS.items():
        value = os.environ.get(variable, "").strip()
        months[kind] = int(value) if value.isdigit() and int(value) > 0 else default
    return months


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    return months_after(moment, -months)


def months_after(moment: dt.datetime, months: int) -> dt.datetime:
    """The same moment `months` calendar months later (the 31st becomes the month's last day)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    first_of_next = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (first_of_next - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


class RetentionHold(BaseModel):
    """A coordinator keeps a closed case's data longer than its term, with the reason (a
    complaint, a question from the client); erasure waits until `until`."""

    case = ForeignKeyField(Case, index=True, on_delete="CASCADE")
    case_id: Field[int]
    until = DateTimeField(index=True)
    reason = CharField(max_length=200)
    user = ForeignKeyField(User, null=True, index=True, on_delete="SET NULL")
    user_id: Field[int | None]
    created_at = DateTimeField(default=utcnow)


def year_only(day: dt.date | None) -> dt.date | None:
    """Mid-year of the same year: age groups stay right within a year, the birthday is gone."""
    return day.replace(month=7, day=1) if day else None


def can_anonymise(client: Client) -> bool:
    """Only when the work is over: every case of the client is closed."""
    return not Case.select().where(Case.client == client.id, Case.status == "open").exists()


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that takes the write lock at once on SQLite (BEGIN IMMEDIATE): two
    processes that read first and write then would otherwise each wait for the other."""
    if isinstance(database.obj, SqliteDatabase):
        with database.atomic("IMMEDIATE"):
            yield
    else:
        with database.atomic():
            yield


def referral_erased(last_name: str) -> dict[str, Any]:
    """What erasure leaves of a referral's personal fields (anonymising a client, retention):
    an anonymous name and nothing else that points at the person. The birth date keeps its
    year, row by row (year_only)."""
    return {
        "first_name": ANONYMOUS_FIRST_NAME,
        "last_name": last_name,
        "phone": "",
        "email": None,
        "street": "",
        "postcode": "",
        "household": "",
        "interests": "",
        "question": "",
        "decline_reason": "",
    }


def anonymise_client(
    client: Client, by: User | None, action: str = "anonymise", only_if: Any = None
) -> bool:
    """Erase the personal data of the client and everything written about them (one transaction).
    With `only_if`, only while that condition on the client still holds when the client's row
    is claimed (a concurrent erasure or a reopened case wins); returns whether it erased."""
    cases = Case.select(Case.id).where(Case.client == client.id)
    enrolments = Enrolment.select(Enrolment.id).where(Enrolment.case.in_(cases))
    referrals = (Referral.client == client.id) | Referral.case.in_(cases)
    claim = Client.id == client.id
    if only_if is not None:
        claim &= only_if
    with write_transaction():
        claimed = (
            Client.update(
                first_name=ANONYMOUS_FIRST_NAME,
                last_name=str(client.id),
                birth_date=year_only(client.birth_date),
                phone="",
                email="",
                street="",
                postcode="",
                household_note="",
                card_type="",
                card_valid_until=None,
                updated_at=utcnow(),
                version=Client.version + 1,
            )
            .where(claim)
            .execute()
        )
        if not claimed:
            return False
        Case.update(question="", outcome_note="", version=Case.version + 1).where(
            Case.id.in_(cases)
        ).execute()
        CaseStep.update(note="").where(CaseStep.case.in_(cases)).execute()
        Visit.update(notes="", place="").where(Visit.case.in_(cases)).execute()
        Task.update(text="").where(Task.case.in_(cases)).execute()
        CaseEvent.update(detail="").where(CaseEvent.case.in_(cases)).execute()
        CaseThreshold.update(note="", resolution="").where(CaseThreshold.case.in_(cases)).execute()
        Enrolment.update(stop_note="").where(Enrolment.id.in_(enrolments)).execute()
        Session.update(meeting_point="", attendance_remark="", cant_come_message="").where(
            Session.enrolment.in_(enrolments)
        ).execute()
        Referral.update(**referral_erased(str(client.id))).where(referrals).execute()
        # The birth date keeps its year only, per referral (a person has one or two).
        for referral in Referral.select(Referral.id, Referral.birth_date).where(referrals):
            Referral.update(birth_date=year_only(referral.birth_date)).where(
                Referral.id == referral.id
            ).execute()
        # The links stop working: nobody can open a page about this person any more.
        AccessLink.delete().where(
            (AccessLink.client == client.id) | AccessLink.enrolment.in_(enrolments)
        ).execute()
        RetentionHold.update(reason="").where(RetentionHold.case.in_(cases)).execute()
        AuditEvent.record(action, client, user=by, object_type="client")
    return True


def is_anonymised() -> Any:
    """The condition for a client already erased ("Anoniem <id>")."""
    return (Client.first_name == ANONYMOUS_FIRST_NAME) & (
        Client.last_name == Client.id.cast("text")
    )


class Due(NamedTuple):
    client_id: int
    case_id: int  # the client's latest case
    last_closed: dt.datetime
    held_until: dt.datetime | None


class ClosedClient(BaseModel):
    """Each client not yet erased whose cases are all closed, with when the last one closed:
    where "Te wissen" and the retention run find the clients reaching their term, along an
    index, however many clients ten years of work have left erased (issue 15). Kept by the
    database's triggers (CLOSED_CLIENT) whatever writes the cases and clients; made whole
    again after every init-db and upgrade (resync_closed_clients)."""

    client = ForeignKeyField(Client, primary_key=True, on_delete="CASCADE")
    client_id: Field[int]
    closed_at = DateTimeField(index=True)

    class Meta:
        table_name = "closed_client"


# The rows closed_client should hold, from the cases and clients themselves ({where}: which).
# Every name and value below comes from the code, none from a request.
CLOSED_CLIENTS = (
    "SELECT c.client_id, MAX(c.closed_at) FROM cases c JOIN client cl ON cl.id = c.client_id "  # noqa: S608
    f"WHERE NOT (cl.first_name = '{ANONYMOUS_FIRST_NAME}' AND cl.last_name = CAST(cl.id AS TEXT)) "
    "AND {where} GROUP BY c.client_id "
    "HAVING SUM(CASE WHEN c.status = 'open' THEN 1 ELSE 0 END) = 0 AND MAX(c.closed_at) IS NOT NULL"
)
# One client's row, made again: {client} names it in the trigger.
CLOSED_CLIENT = (
    "DELETE FROM closed_client WHERE client_id = {client}; "  # noqa: S608
    "INSERT INTO closed_client (client_id, closed_at) "
    + CLOSED_CLIENTS.replace("{where}", "c.client_id = {client}")
    + ";"
)


def create_closed_client_triggers(db: Any) -> None:
    """Triggers that keep closed_client as cases open, close, reopen or move to another client,
    and as clients are erased; idempotent."""

    def on_cases(event: str, row: str) -> str:
        statement = CLOSED_CLIENT.format(client=f"{row}.client_id")
        if event == "update":  # a case moved to another client: both clients
            statement = CLOSED_CLIENT.format(client="OLD.client_id") + " " + statement
        return statement

    with db.atomic():
        # Two of a client's cases closed at once, or a case closed while the client is erased:
        # each recount must see the other change.
        create_row_trigger(
            db,
            "trg_closed_client_cases",
            "cases",
            ("status", "closed_at", "client_id"),
            on_cases,
            one_at_a_time=("closed_client", "client_id"),
        )
        create_row_trigger(
            db,
            "trg_closed_client_client",
            "client",
            ("first_name", "last_name"),
            lambda _event, row: CLOSED_CLIENT.format(client=f"{row}.id"),
            one_at_a_time=("closed_client", "id"),
        )


def resync_closed_clients(db: Any) -> int:
    """Make closed_client hold exactly the rows its triggers would have written, whatever wrote
    the cases before they existed (after every init-db and upgrade; idempotent). Returns the
    rows it changed."""
    expected = dict(db.execute_sql(CLOSED_CLIENTS.replace("{where}", "1 = 1")).fetchall())
    current = dict(db.execute_sql("SELECT client_id, closed_at FROM closed_client").fetchall())
    wrong = [c for c, closed in current.items() if expected.get(c) != closed]
    missing = [(c, closed) for c, closed in expected.items() if current.get(c) != closed]
    with db.atomic():
        for chunk in chunked(wrong, 500):
            ClosedClient.delete().where(ClosedClient.client.in_(chunk)).execute()
        for chunk in chunked(missing, 500):
            rows = [{"client": c, "closed_at": closed} for c, closed in chunk]
            ClosedClient.insert_many(rows).execute()
    return len(wrong) + len(missing)


def _due_clients(horizon: dt.datetime, months: int) -> Any:
    """The clients whose every case is closed and whose term (the last closing plus `months`,
    or a hold's end when later) is reached by `horizon`; not yet erased. Oldest closing first,
    along closed_client's index."""
    held_longer = (
        RetentionHold.select(RetentionHold.id)
        .join(Case)
        .where(Case.client == ClosedClient.client, RetentionHold.until >= horizon)
    )
    return (
        ClosedClient.select(ClosedClient.client)
        .where(ClosedClient.closed_at < months_before(horizon, months), ~fn.EXISTS(held_longer))
        .order_by(ClosedClient.closed_at, ClosedClient.client)
    )


def clients_due(
    now: dt.datetime, ahead: dt.timedelta = dt.timedelta(0), limit: int | None = None
) -> list[Due]:
    """The clients whose data reaches its term by now + ahead, soonest first; `limit`: the
    first of them in the order their last case closed."""
    months = retention_months()["closed_case"]
    due_clients = _due_clients(now + ahead, months)
    if limit is not None:
        due_clients = due_clients.limit(limit)
    rows = (
        Case.select(
            Case.client, fn.MAX(Case.id), fn.MAX(Case.closed_at), fn.MAX(RetentionHold.until)
        )
        .join(RetentionHold, JOIN.LEFT_OUTER, on=(RetentionHold.case == Case.id))
        .where(Case.client.in_(due_clients))
        .group_by(Case.client)
    )
    due = [Due(*row) for row in tuples_of(rows)]
    return sorted(due, key=lambda d: (term_of(d, months), d.client_id))


def term_of(due: Due, months: int | None = None) -> dt.datetime:
    """When this client's data reaches its term."""
    months = months or retention_months()["closed_case"]
    last_closed = due.last_closed
    if isinstance(last_closed, str):  # SQLite hands MAX() of a datetime back as text
        last_closed = dt.datetime.fromisoformat(last_closed)
    held = due.held_until
    if isinstance(held, str):
        held = dt.datetime.fromisoformat(held)
    term = months_after(last_closed, months)
    return max(term, held) if held else term


def keep_longer(case: Case, reason: str, by: User, now: dt.datetime | None = None) -> None:
    """Postpone the erasure of this case's client by HOLD_MONTHS from now, with the reason."""
    now = now or utcnow()
    RetentionHold.create(case=case, until=months_after(now, HOLD_MONTHS), reason=reason, user=by)
    AuditEvent.record("keep", case, user=by)


def apply_retention(now: dt.datetime | None = None) -> dict[str, int]:
    """Erase or delete everything past its term; returns how many of each (no names). Safe to
    run on several servers at once: every erasure claims its rows with an UPDATE … WHERE that
    re-checks the term, so a second run finds nothing left to do and counts nothing twice."""
    now = now or utcnow()
    months = retention_months()
    done = {"clients": 0, "referrals": 0, "links": 0, "sessions": 0, "throttles": 0}
    done["security_log"] = 0
    for due in clients_due(now):
        # The row's own condition first: PostgreSQL re-checks it on the newest version of the
        # row after waiting for a concurrent erasure; the subquery keeps its older snapshot.
        still_due = ~is_anonymised() & Client.id.in_(
            _due_clients(now, months["closed_case"]).where(ClosedClient.client == due.client_id)
        )
        if anonymise_client(Client(id=due.client_id), None, "retention", only_if=still_due):
            done["clients"] += 1
    referral_cutoff = months_before(now, months["referral"])
    stale = (
        (Referral.status != "accepted")
        & (fn.COALESCE(Referral.handled_at, Referral.submitted_at) < referral_cutoff)
        & (Referral.first_name != ANONYMOUS_FIRST_NAME)
    )
    # Read to the end first: on SQLite a query still being read holds its snapshot, and the
    # write lock is then refused at once when another process wrote since (two runs at once).
    for referral in list(Referral.select(Referral.id, Referral.birth_date).where(stale)):
        with write_transaction():
            done["referrals"] += (
                Referral.update(
                    **referral_erased(str(referral.id)),
                    birth_date=year_only(referral.birth_date),
                )
                .where(Referral.id == referral.id, stale)
                .execute()
            )
    link_cutoff = months_before(now, months["link"])
    done["links"] = (
        AccessLink.delete()
        .where((AccessLink.revoked_at < link_cutoff) | (AccessLink.expires_at < link_cutoff))
        .execute()
    )
    done["sessions"] = LoginSession.delete().where(~LoginSession.alive(now)).execute()
    done["throttles"] = (
        Throttle.delete().where(Throttle.window_start < now - THROTTLE_DEAD_AFTER).execute()
    )
    done["security_log"] = (
        SecurityEvent.delete()
        .where(SecurityEvent.at < months_before(now, months["security_log"]))
        .execute()
    )
    # Today's erasures, this run's and the coordinators', gone from the search indexes too.
    purge_erased_text(database, (Client, Referral, OpenCaseSearch))
    return done


# Never part of an access request's export: secrets and internal bookkeeping.
NOT_EXPORTED = {"token_hash", "search_text", "idempotency_key", "key_hash", "version"}


def _row(model: Any, names: dict[str, dict[int, str | None]]) -> dict[str, Any]:
    """One record as its values, without secrets; a reference to a team member, an activity,
    a step, a threshold category or an organisation as its name (ids mean nothing to a reader)."""
    values = {}
    for name, value in model.__data__.items():
        if name in NOT_EXPORTED:
            continue
        kind = REFERENCE_KINDS.get(name)
        values[name] = (
            names[kind].get(value, value) if kind is not None and value is not None else value
        )
    return values


# Which lookup names a referenced id (see _row).
REFERENCE_KINDS = {
    "mediator": "user",
    "actor": "user",
    "user": "user",
    "changed_by": "user",
    "created_by": "user",
    "handled_by": "user",
    "done_by": "user",
    "activity": "activity",
    "step": "step",
    "category": "category",
    "organisation": "organisation",
}


def client_export(client: Client) -> dict[str, Any]:
    """Everything kept about one client (GDPR art. 15): the client, each case with its visits,
    steps, timeline, thresholds, enrolments and sessions, referrals, links (never their token)
    and who viewed or changed the file when (from the audit trail). Plain values, for the
    printable page and the JSON alike."""
    cases = list(Case.select().where(Case.client == client.id).order_by(Case.opened_at))
    case_ids = [c.id for c in cases] or [0]
    enrolments = list(Enrolment.select().where(Enrolment.case.in_(case_ids)))
    enrolment_ids = [e.id for e in enrolments] or [0]

    # Every name a reference may need, one query per kind (the team and the lists are small).
    names: dict[str, dict[int, str | None]] = {
        "user": dict(User.select(User.id, User.name).tuples()),
        "activity": dict(
            cast(
                "Iterable[tuple[int, str]]",
                Activity.select(Activity.id, Activity.title)
                .join(Enrolment)
                .where(Enrolment.id.in_(enrolment_ids))
                .tuples(),
            )
        ),
        "step": {s.id: step_label(s.key, s.label) for s in StepDefinition.select()},
        "category": {
            c.id: threshold_category_label(c.key, c.label) for c in ThresholdCategory.select()
        },
        "organisation": dict(
            cast(
                "Iterable[tuple[int, str]]",
                ReferringOrganisation.select(ReferringOrganisation.id, ReferringOrganisation.name)
                .join(Referral)
                .where((Referral.client == client.id) | Referral.case.in_(case_ids))
                .tuples(),
            )
        ),
    }

    def rows(query: Any) -> list[dict[str, Any]]:
        return [_row(r, names) for r in query]

    by_case: dict[str, Any] = {
        "visits": rows(Visit.select().where(Visit.case.in_(case_ids)).order_by(Visit.occurred_at)),
        "steps": rows(CaseStep.select().where(CaseStep.case.in_(case_ids))),
        "timeline": rows(CaseEvent.select().where(CaseEvent.case.in_(case_ids))),
        "thresholds": rows(CaseThreshold.select().where(CaseThreshold.case.in_(case_ids))),
        "enrolments": [_row(e, names) for e in enrolments],
        "sessions": rows(Session.select().where(Session.enrolment.in_(enrolment_ids))),
        "tasks": rows(Task.select().where(Task.case.in_(case_ids)).order_by(Task.id)),
        "kept_longer": rows(RetentionHold.select().where(RetentionHold.case.in_(case_ids))),
        "messages": rows(
            Message.select()
            .where((Message.client == client.id) | Message.case.in_(case_ids))
            .order_by(Message.id)
        ),
    }
    referrals = rows(
        Referral.select().where((Referral.client == client.id) | Referral.case.in_(case_ids))
    )
    links = rows(
        AccessLink.select().where(
            (AccessLink.client == client.id) | AccessLink.enrolment.in_(enrolment_ids)
        )
    )
    seen: dict[int, dict[str, Any]] = {}
    for case in cases:
        for event in AuditEvent.for_case(case):
            seen[event.id] = {
                "at": event.at,
                "who": event.actor,
                "what": event.label,
                "fields": event.field_labels,
            }
    trail = sorted(seen.values(), key=lambda e: e["at"])
    return {
        "client": _row(client, names),
        "cases": [_row(c, names) for c in cases],
        **by_case,
        "referrals": referrals,
        "links": links,
        "audit": trail,
    }
