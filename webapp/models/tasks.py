"""To-dos (taken) of a case: rows of their own, several open at once, each with a due date,
made by a visit, an event (a referral accepted, an absence) or by hand, and ticked off."""

from __future__ import annotations

import datetime as dt

from flask import abort
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from peewee import CharField, DateField, DateTimeField, Field, ForeignKeyField

from webapp.db import BaseModel, Prepared, Rows, database, likely, sent
from webapp.models.cases import Case, CaseEvent, Visit, in_team_language
from webapp.models.people import Client, User
from webapp.timeutil import local_today, to_local, utcnow

# What made the to-do: by hand on the case, a visit's form, an accepted referral, a case
# opened for a colleague, an absence told by a provider.
TASK_SOURCES = ("manual", "visit", "referral", "intake", "attendance")
# The referral form promises contact "binnen de week": the first-contact to-do is due then.
FIRST_CONTACT_TERM = dt.timedelta(days=7)
# Where the referrer asks the first contact to be made (the referral form's choice).
FIRST_CONTACT = {
    "huisbezoek": _l("huisbezoek"),
    "permanentie": _l("op de permanentie"),
    "doorverwijzer": _l("bij de doorverwijzer"),
}
# How a request that a person sent in themselves (/vraag) asks to be contacted first.
SELF_FIRST_CONTACT = {
    "bellen": _l("bellen"),
    "mailen": _l("mailen"),
}
# A to-do someone else gave the mediator (an intake, a provider's link) is marked "nieuw" so
# long: a few working days, enough to be noticed on Vandaag, not so long that it means nothing.
NEW_FOR = dt.timedelta(days=3)


class Task(BaseModel):
    """Something a mediator must still do for a case (een taak); the list is "Te doen"."""

    # No index of its own: (case, done_at, due) below serves the foreign key too.
    case = ForeignKeyField(Case, backref="tasks", index=False, on_delete="CASCADE")
    case_id: Field[int]
    text = CharField(max_length=200)
    due = DateField(null=True)
    source = CharField(max_length=20, default="manual")
    # The visit whose form planned it; kept (unlinked) when that visit is removed.
    visit = ForeignKeyField(Visit, null=True, index=True, on_delete="SET NULL")
    visit_id: Field[int | None]
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, index=True)  # none: a provider's link
    created_by_id: Field[int | None]
    done_at = DateTimeField(null=True)
    done_by = ForeignKeyField(User, null=True, index=True)
    done_by_id: Field[int | None]

    class Meta:
        table_name = "task"
        # "The open to-dos of a case", "open to-dos due by a day" and "new open to-dos" (Vandaag:
        # a mediator's through their cases, the team's along these); the first also serves the
        # foreign key.
        indexes = (
            (("case", "done_at", "due"), False),
            (("done_at", "due"), False),
            (("done_at", "created_at"), False),
        )

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return not self.is_done and self.due is not None and self.due < local_today()

    @property
    def is_new(self) -> bool:
        """Given to the case's mediator by someone else (an intake, a provider's link) in the
        last days: "nieuw" on their lists."""
        return (
            not self.is_done
            and self.created_by_id != self.case.mediator_id
            and self.created_at >= utcnow() - NEW_FOR
        )

    @classmethod
    def _ordered(cls, query):  # type: ignore[no-untyped-def]
        """Overdue first, then by due date; those without a date last; oldest first."""
        return query.order_by(cls.due.asc(nulls="LAST"), cls.id)

    @classmethod
    def open_for_case(cls, case: Case) -> Rows[Task]:
        """Every open to-do of a case, the most urgent first (one query, read when first used)."""
        return _open_tasks_of_case.rows(case.id)

    @classmethod
    def first_open_for(cls, case_ids: list[int]) -> dict[int, Task]:
        """The most urgent open to-do of each of these cases (one query)."""
        found: dict[int, Task] = {}
        if not case_ids:
            return found
        # likely(): SQLite would otherwise read every open to-do of the team through the
        # (done_at, due) index, taking "done_at IS NULL" for a few rows (db.likely).
        query = cls.select().where(cls.case.in_(case_ids), likely(cls.done_at.is_null()))
        for task in cls._ordered(query):
            found.setdefault(task.case_id, task)
        return found

    @classmethod
    def on_timeline(cls, case: Case) -> Rows[Task]:
        """The to-dos planned at the contacts the case's timeline shows, oldest first (one
        query, which needs no answer of the timeline's: sent with it, read when first used)."""
        return _tasks_on_timeline.rows(case.id)

    @classmethod
    def open_on_open_cases(cls, mediator: User | None):  # type: ignore[no-untyped-def]
        """Open to-dos with their case, client and the case's mediator, on open cases of
        `mediator` (everyone's when None), the most urgent first."""
        query = (
            cls.select(cls, Case, Client, User)
            .join(Case)
            .join(Client)
            .switch(Case)
            .join(User)
            .where(Case.status == "open")
        )
        if mediator is None:
            query = query.where(cls.done_at.is_null())
        else:
            # Through the mediator's open cases (cases (mediator, status), then task (case,
            # done_at, due)), not through every open to-do of the team.
            query = query.where(Case.mediator == mediator, likely(cls.done_at.is_null()))
        return cls._ordered(query)

    @classmethod
    def due_by(cls, mediator: User | None, day: dt.date, limit: int) -> Rows[Task]:
        """Open to-dos due on or before `day` on open cases, and the new ones someone else gave
        the mediator whatever their date, the new ones first, at most `limit` (two queries,
        each `limit` rows read along an index: the team's hundreds of due to-dos are never
        sorted; both sent before either is read)."""
        given = (cls.created_by.is_null() | (cls.created_by != Case.mediator)) & (
            cls.created_at >= utcnow() - NEW_FOR
        )
        # What is new comes first: it is what the mediator does not know about yet.
        new = sent(cls.open_on_open_cases(mediator).where(given).limit(limit))
        due = sent(cls.open_on_open_cases(mediator).where(cls.due <= day, ~given).limit(limit))
        return Rows(new, finish=lambda new_ones: [*new_ones, *due][:limit])

    @classmethod
    def get_for(cls, user: User, task_id: int) -> Task:
        """One to-do with its case, client and mediator, or 404 when the user may not see
        that case."""
        task = (
            cls.select(cls, Case, Client, User)
            .join(Case)
            .join(Client)
            .switch(Case)
            .join(User)
            .where(cls.id == task_id, Case.id.in_(Case.visible_to(user).select(Case.id)))
            .first()
        )
        if task is None:
            abort(404)
        return task

    @classmethod
    def add(
        cls,
        case: Case,
        text: str,
        due: dt.date | None,
        by: User | None,
        source: str = "manual",
        visit: Visit | None = None,
    ) -> Task:
        """A new open to-do on the case."""
        return cls.create(
            case=case, text=text[:200], due=due, source=source, visit=visit, created_by=by
        )

    def mark(self, done: bool, by: User) -> bool:
        """Tick the to-do off (or open it again), once; the timeline records it. False when
        it already was so (a double tap, or a colleague first)."""
        now = utcnow() if done else None
        with database.atomic():
            changed = (
                Task.update(done_at=now, done_by=by if done else None)
                .where(
                    Task.id == self.id,
                    Task.done_at.is_null() if done else Task.done_at.is_null(False),
                )
                .execute()
            )
            if changed:
                self.done_at, self.done_by = now, by if done else None
                CaseEvent.create(
                    case=self.case_id,
                    actor=by,
                    kind="task_done" if done else "task_reopened",
                    detail=self.text[:500],
                )
                Case.update(updated_at=utcnow()).where(Case.id == self.case_id).execute()
        return bool(changed)


def first_contact_task(case: Case, wish: str, promised_from: dt.datetime, by: User) -> Task:
    """The to-do a new case starts with: make the first contact the referrer asked for, within
    the promised term from when the person was referred (today at the earliest)."""
    with in_team_language():
        how = FIRST_CONTACT.get(wish) or SELF_FIRST_CONTACT.get(wish)
        text = gettext("Eerste contact: %(how)s", how=str(how)) if how else ""
        text = text or gettext("Eerste contact")
    due = max(to_local(promised_from).date() + FIRST_CONTACT_TERM, local_today())
    return Task.add(case, text, due, by, source="referral" if wish else "intake")


_tasks_on_timeline = Prepared(
    lambda case_id: (
        # The case's to-dos (along its index; SQLite would otherwise walk every to-do in id
        # order), of the contacts among its newest events.
        Task.select()
        .where(Task.case == case_id, Task.visit.in_(CaseEvent.visits_on_timeline(case_id)))
        .order_by(Task.id)
    )
)
_open_tasks_of_case = Prepared(
    lambda case_id: Task._ordered(Task.select().where(Task.case == case_id, Task.done_at.is_null()))
)
