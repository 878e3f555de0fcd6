"""The leisure offer: providers, their activities, enrolments of clients and the sessions."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Mapping
from functools import reduce
from typing import Any, NamedTuple

from flask import abort
from flask_babel import lazy_gettext as _l
from peewee import (
    JOIN,
    SQL,
    BooleanField,
    CharField,
    DateTimeField,
    Expression,
    Field,
    ForeignKeyField,
    IntegerField,
    ModelSelect,
    TextField,
    fn,
)

from webapp.db import BaseModel, Prepared, Rows, database, sent
from webapp.models.cases import STOP_REASONS, Case, CaseEvent, in_team_language
from webapp.models.people import Client, User
from webapp.models.search import Searchable, fold, matches_all, search_words
from webapp.models.tasks import Task
from webapp.timeutil import local_today, to_local, to_utc, utcnow

COST_ARRANGEMENTS = {
    "reduced": _l("kansentarief / UiTPAS"),
    "allowance": _l("vrijetijdstoelage"),
    "free": _l("gratis"),
    "full": _l("volle prijs"),
}
ENROLMENT_STATUSES = {"active": _l("loopt"), "stopped": _l("gestopt")}
ATTENDANCE = {
    "": _l("nog niet bevestigd"),
    "present": _l("aanwezig"),
    "absent": _l("niet aanwezig"),
}
# Common meeting points and things to bring, chosen by the mediator and stored as keys, so the
# client's page says them in the client's language; free text beside them stays Dutch.
MEETING_POINTS = {
    "entrance": _l("Aan de ingang."),
    "counter": _l("Aan het onthaal."),
    "front": _l("Voor het gebouw."),
    "stop": _l("Aan de tram- of bushalte."),
    "home": _l("We halen je thuis op."),
}
THINGS_TO_BRING = {
    "swimwear": _l("Zwemkledij"),
    "towel": _l("Een handdoek"),
    "sportswear": _l("Sportkledij"),
    "sports_shoes": _l("Sportschoenen"),
    "water": _l("Een drinkfles met water"),
    "uitpas": _l("Je UiTPAS"),
    "snack": _l("Iets kleins om te eten"),
    "id_card": _l("Je identiteitskaart"),
}
# The leisure allowance pays 80 % of a membership: the client pays the rest.
ALLOWANCE_SHARE_PAID_BY_CLIENT = 0.2


class Provider(Searchable, BaseModel):
    name = CharField(max_length=120, index=True)
    kind = CharField(max_length=60, default="")
    contact_name = CharField(max_length=100, default="")
    phone = CharField(max_length=30, default="")
    email = CharField(max_length=254, default="")
    street = CharField(max_length=120, default="")
    postcode = CharField(max_length=4, default="")
    district = CharField(max_length=40, default="")
    archived = BooleanField(default=False, index=True)
    created_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)
    search_text = TextField(null=True, default="")  # the folded name (models/search.py)

    SEARCHED_FIELDS = ("name",)

    @classmethod
    def search_parts(cls, values: Mapping[str, Any]) -> list[str]:
        return [fold(values.get("name"))]

    @classmethod
    def listed(cls, include_archived: bool = False):  # type: ignore[no-untyped-def]
        """Providers by name with how many activities each has (one query)."""
        query = (
            cls.select(cls, fn.COUNT(Activity.id).alias("activity_count"))
            .join(Activity, JOIN.LEFT_OUTER, on=(Activity.provider == cls.id))
            .group_by(cls.id)
            .order_by(cls.archived, cls.name)
        )
        if not include_archived:
            query = query.where(cls.archived == False)  # noqa: E712
        return query

    @classmethod
    def choices(cls) -> list[tuple[int, str]]:
        rows = cls.select(cls.id, cls.name).where(cls.archived == False).order_by(cls.name)  # noqa: E712
        return [(p.id, p.name) for p in rows]


WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
# "14 uur", "13.30-15 uur" (hyphen or en dash), "16:30 - 18 uur": a start and an optional end.
SCHEDULE_HOURS = re.compile(
    r"\b(\d{1,2})(?:[.:u](\d{2}))?\s*u?(?:\s*[–-]\s*(\d{1,2})(?:[.:u](\d{2}))?)?\s*u(?:ur)?\b"
)


class ScheduleGuess(NamedTuple):
    day: dt.date | None
    start: dt.time | None
    minutes: int | None


def guess_next_session(schedule: str, after: dt.date) -> ScheduleGuess:
    """The next session as the schedule's words describe it ("maandag en donderdag 16-18 uur"):
    the first of the named weekdays after `after`, the start and the length. A prefill for the
    mediator to check, never stored as such; whatever cannot be read stays None."""
    text = schedule.lower()
    hours = SCHEDULE_HOURS.search(text)
    start = minutes = None
    if hours:
        h, m = int(hours[1]), int(hours[2] or 0)
        if h < 24 and m < 60:
            start = dt.time(h, m)
            if hours[3]:
                end_h, end_m = int(hours[3]), int(hours[4] or 0)
                length = (end_h * 60 + end_m) - (h * 60 + m)
                minutes = length if end_h < 24 and end_m < 60 and 15 <= length <= 600 else None
    # Weekdays named before the hours belong to them ("woensdag 14 uur, zaterdag match");
    # with none there, any weekday named ("9 uur, op woensdag").
    weekdays = _weekdays(text[: hours.start()]) if hours else []
    weekdays = weekdays or _weekdays(text)
    day = None
    if weekdays:
        day = min(after + dt.timedelta(days=(w - after.weekday() - 1) % 7 + 1) for w in weekdays)
    return ScheduleGuess(day, start, minutes)


def _weekdays(text: str) -> list[int]:
    return [i for i, name in enumerate(WEEKDAYS) if re.search(rf"\b{name}\b", text)]


class Activity(Searchable, BaseModel):
    provider = ForeignKeyField(Provider, backref="activities", index=True)
    provider_id: Field[int]
    title = CharField(max_length=120, index=True)
    domain = CharField(max_length=10, index=True)  # sport | cultuur | jeugd
    description = TextField(default="")
    age_min = IntegerField(null=True)
    age_max = IntegerField(null=True)
    street = CharField(max_length=120, default="")
    postcode = CharField(max_length=4, default="")
    district = CharField(max_length=40, default="", index=True)
    schedule = CharField(max_length=200, default="")
    price_full_cents = IntegerField(default=0)
    price_reduced_cents = IntegerField(null=True, index=True)  # none: no reduced rate
    what_to_bring = CharField(max_length=300, default="")
    bring_keys = CharField(max_length=200, null=True)  # THINGS_TO_BRING keys, comma-separated
    accessibility = CharField(max_length=300, default="")
    archived = BooleanField(default=False, index=True)
    created_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)
    # Folded title, place and description, kept by the model (models/search.py).
    search_text = TextField(null=True, default="")

    SEARCHED_FIELDS = ("title", "street", "district", "description")

    @classmethod
    def search_parts(cls, values: Mapping[str, Any]) -> list[str]:
        return [fold(values.get(name)) for name in cls.SEARCHED_FIELDS]

    @property
    def bring_list(self) -> list[str]:
        """The chosen common things to bring, as keys in the order of THINGS_TO_BRING."""
        chosen = set((self.bring_keys or "").split(","))
        return [key for key in THINGS_TO_BRING if key in chosen]

    @property
    def address(self) -> str:
        town = " ".join(p for p in (self.postcode, "Antwerpen" if self.postcode else "") if p)
        return ", ".join(p for p in (self.street, town or self.district) if p)

    @property
    def ages(self) -> str:
        if self.age_min is not None and self.age_max is not None:
            return f"{self.age_min}–{self.age_max}"
        if self.age_min is not None:
            return f"{self.age_min}+"
        if self.age_max is not None:
            return f"–{self.age_max}"
        return ""

    @classmethod
    def search(
        cls,
        text: str = "",
        domain: str = "",
        age: int | None = None,
        district: str = "",
        max_price_cents: int | None = None,
        reduced_only: bool = False,
        include_archived: bool = False,
    ) -> ModelSelect[Activity]:
        """Activities with their provider that fit the filters, by title (one query)."""
        query = cls.select(cls, Provider).join(Provider)
        if not include_archived:
            query = query.where(cls.archived == False, Provider.archived == False)  # noqa: E712
        for word in search_words(text):  # each word in the activity or its provider's name
            query = query.where(matches_all(cls, [word]) | matches_all(Provider, [word]))
        if domain:
            query = query.where(cls.domain == domain)
        if age is not None:
            query = query.where(
                (cls.age_min.is_null() | (cls.age_min <= age))
                & (cls.age_max.is_null() | (cls.age_max >= age))
            )
        if district:
            query = query.where(cls.district == district)
        if reduced_only:
            query = query.where(cls.price_reduced_cents.is_null(False))
        if max_price_cents is not None:
            cheapest = fn.COALESCE(cls.price_reduced_cents, cls.price_full_cents)
            if reduced_only:
                query = query.where(cls.price_reduced_cents <= max_price_cents)
            else:
                query = query.where(cheapest <= max_price_cents)
        return query.order_by(fn.LOWER(cls.title), cls.id)

    @classmethod
    def get_with_provider(cls, activity_id: int) -> Activity:
        activity = cls.select(cls, Provider).join(Provider).where(cls.id == activity_id).first()
        if activity is None:
            abort(404)
        return activity

    def price_for(self, arrangement: str) -> int:
        """What the client pays in cents under a cost arrangement."""
        if arrangement == "free":
            return 0
        if arrangement == "reduced" and self.price_reduced_cents is not None:
            return self.price_reduced_cents
        if arrangement == "allowance":
            return round(self.price_full_cents * ALLOWANCE_SHARE_PAID_BY_CLIENT)
        return self.price_full_cents

    def default_arrangement(self, card_valid: bool) -> str:
        """The cost arrangement to start from: free when there is nothing to pay (with the card,
        for a client who has a valid one), else the reduced rate where there is one, else the full
        price. The mediator can still change it."""
        if self.price_full_cents == 0 or (card_valid and self.price_reduced_cents == 0):
            return "free"
        return "reduced" if self.price_reduced_cents is not None else "full"

    @classmethod
    def fits_age(cls, age: int) -> Expression:
        """The activities open to someone of this age (a missing bound does not limit)."""
        return (cls.age_min.is_null() | (cls.age_min <= age)) & (
            cls.age_max.is_null() | (cls.age_max >= age)
        )

    @classmethod
    def works_with_card(cls) -> Expression:
        """The activities a reduced-rate card makes affordable: with a kansentarief, or free."""
        return cls.price_reduced_cents.is_null(False) | (cls.price_full_cents == 0)

    @classmethod
    def count_each(cls, queries: list[ModelSelect]) -> list[int]:
        """How many activities each query finds, in one statement (a UNION ALL of counts)."""
        if not queries:
            return []
        counts = [
            query.select(SQL(str(number)), fn.COUNT(cls.id)).order_by()
            for number, query in enumerate(queries)
        ]
        found: dict[int, int] = dict(reduce(operator.add, counts).tuples())  # type: ignore[arg-type]
        return [int(found.get(number, 0)) for number in range(len(queries))]


class Enrolment(BaseModel):
    case = ForeignKeyField(Case, backref="enrolments", index=True, on_delete="CASCADE")
    case_id: Field[int]
    activity = ForeignKeyField(Activity, backref="enrolments", index=True)
    activity_id: Field[int]
    status = CharField(max_length=10, default="active", index=True)
    cost_arrangement = CharField(max_length=12, default="reduced")
    stop_reason = CharField(max_length=20, default="")  # a STOP_REASONS key
    stop_note = CharField(max_length=200, default="")
    created_by = ForeignKeyField(User, null=True, index=True)
    created_by_id: Field[int | None]
    created_at = DateTimeField(default=utcnow)
    stopped_at = DateTimeField(null=True)

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def cost_cents(self) -> int:
        return self.activity.price_for(self.cost_arrangement)

    @classmethod
    def get_for_case(cls, case: Case, enrolment_id: int) -> Enrolment:
        """One enrolment of this case with its activity and provider, or 404."""
        enrolment = (
            cls.select(cls, Activity, Provider)
            .join(Activity)
            .join(Provider)
            .where(cls.id == enrolment_id, cls.case == case)
            .first()
        )
        if enrolment is None:
            abort(404)
        enrolment.case = case
        return enrolment

    @classmethod
    def enrol(
        cls,
        case: Case,
        activity: Activity,
        by: User,
        cost_arrangement: str,
        starts: list[dt.datetime],
        duration: dt.timedelta,
        meeting_point: str,
        go_along: bool,
        meeting_point_key: str | None = None,
    ) -> Enrolment:
        """Enrol the client with its sessions; completes 'Inschrijving' and notes it on the
        timeline."""
        with database.atomic():
            enrolment = cls.create(
                case=case, activity=activity, cost_arrangement=cost_arrangement, created_by=by
            )
            Session.insert_many(
                [
                    {
                        "enrolment": enrolment.id,
                        "starts_at": start,
                        "ends_at": start + duration,
                        "meeting_point": meeting_point,
                        "meeting_point_key": meeting_point_key or None,
                        "companion": by.id if go_along and i == 0 else None,
                    }
                    for i, start in enumerate(starts)
                ]
            ).execute()
            CaseEvent.create(
                case=case,
                actor=by,
                kind="enrolled",
                detail=f"{activity.title}, {session_label(starts[0])}",
            )
            case.complete_step_by_event("enrolled", by)
            case.refresh_position()
        return enrolment

    def stop(self, by: User, reason: str, note: str) -> None:
        """Stop the enrolment; later sessions are dropped. Its provider links are the caller's
        to revoke (AccessLink.revoke_for(enrolment=…)), in the same transaction."""
        now = utcnow()
        with database.atomic():
            self.status, self.stop_reason, self.stop_note, self.stopped_at = (
                "stopped",
                reason,
                note,
                now,
            )
            # Only what stopping changes: a row loaded earlier must not undo another change.
            self.save(
                only=[
                    Enrolment.status,
                    Enrolment.stop_reason,
                    Enrolment.stop_note,
                    Enrolment.stopped_at,
                ]
            )
            Session.delete().where(
                Session.enrolment == self, Session.starts_at > now, Session.attendance == ""
            ).execute()
            with in_team_language():
                detail = f"{self.activity.title}: {STOP_REASONS.get(reason, reason)}"
            CaseEvent.create(case=self.case, actor=by, kind="enrolment_stopped", detail=detail)
            self.case.touch()


class Session(BaseModel):
    """One meeting of an enrolment: the client goes to the activity at a given time."""

    enrolment = ForeignKeyField(Enrolment, backref="sessions", index=True, on_delete="CASCADE")
    enrolment_id: Field[int]
    starts_at = DateTimeField(index=True)
    ends_at = DateTimeField(null=True)
    meeting_point = CharField(max_length=200, default="")
    meeting_point_key = CharField(max_length=20, null=True)  # a MEETING_POINTS key
    companion = ForeignKeyField(User, null=True, index=True)  # the mediator who goes along
    companion_id: Field[int | None]
    attendance = CharField(max_length=10, default="")
    attendance_remark = CharField(max_length=300, default="")
    confirmed_at = DateTimeField(null=True)
    confirmed_via = CharField(max_length=10, default="")  # provider | mediator
    cant_come_at = DateTimeField(null=True, index=True)
    cant_come_message = CharField(max_length=300, default="")
    # Read with the session by sessions_of_case (no column): how many of its enrolment's
    # sessions are still to come, this one included.
    coming_in_all: int

    class Meta:
        table_name = "activity_sessions"

    @property
    def has_started(self) -> bool:
        return self.starts_at <= utcnow()

    @property
    def can_record_attendance(self) -> bool:
        """Attendance is told on the day of the session or later, never before."""
        return to_local(self.starts_at).date() <= local_today()

    @classmethod
    def get_for_case(cls, case: Case, session_id: int) -> Session:
        """One session of an enrolment of this case, with enrolment, activity and provider, or
        404."""
        session = (
            cls.select(cls, Enrolment, Activity, Provider)
            .join(Enrolment)
            .join(Activity)
            .join(Provider)
            .where(cls.id == session_id, Enrolment.case == case)
            .first()
        )
        if session is None:
            abort(404)
        session.enrolment.case = case
        return session

    @classmethod
    def upcoming_for_client(cls, client: Client, limit: int = 8) -> list[Session]:
        """The client's coming sessions on active enrolments of open cases, with activity,
        provider, case, mediator and companion (one query)."""
        Companion = User.alias()  # noqa: N806  (a model alias, named like a model)
        return list(
            cls.select(cls, Enrolment, Activity, Provider, Case, User, Companion)
            .join(Enrolment)
            .join(Activity)
            .join(Provider)
            .switch(Enrolment)
            .join(Case)
            .join(User, on=(Case.mediator == User.id))
            .switch(cls)
            .join(Companion, JOIN.LEFT_OUTER, on=(cls.companion == Companion.id))
            .where(
                Case.client == client,
                Case.status == "open",
                Enrolment.status == "active",
                cls.starts_at >= utcnow() - dt.timedelta(hours=2),
            )
            .order_by(cls.starts_at)
            .limit(limit)
        )

    @classmethod
    def for_provider_page(cls, enrolment: Enrolment) -> list[Session]:
        """The sessions a provider sees: the last two weeks and the coming ones."""
        return list(
            cls.select()
            .where(
                cls.enrolment == enrolment,
                cls.starts_at >= utcnow() - dt.timedelta(days=14),
            )
            .order_by(cls.starts_at)
            .limit(12)
        )

    @classmethod
    def of_provider_period(
        cls, provider_id: int, start: dt.datetime, end: dt.datetime, listed: bool = True
    ) -> ModelSelect[Session]:
        """Our participants' sessions at one provider in [start, end), from every mediator,
        with activity, case, client and mediator (one query), in the order the provider's
        page lists them. `listed`: only the columns the page shows (a week of a big
        provider is a hundred rows of six tables); else whole rows, with the provider, to
        record an attendance."""
        if listed:
            columns = [
                *(cls.id, cls.enrolment, cls.starts_at, cls.attendance, cls.attendance_remark),
                *(Enrolment.id, Enrolment.activity, Enrolment.case, Activity.id, Activity.title),
                *(Case.id, Case.client, Case.mediator, Client.id, Client.first_name),
                *(Client.last_name, User.id, User.name, User.phone),
            ]
            query = cls.select(*columns).join(Enrolment).join(Activity)
        else:
            query = (
                cls.select(cls, Enrolment, Activity, Provider, Case, Client, User)
                .join(Enrolment)
                .join(Activity)
                .join(Provider)
            )
        return (
            query.switch(Enrolment)
            .join(Case)
            .join(Client)
            .switch(Case)
            .join(User, on=(Case.mediator == User.id))
            .where(
                Activity.provider == provider_id,
                Enrolment.status == "active",
                Case.status == "open",
                cls.starts_at >= start,
                cls.starts_at < end,
            )
            .order_by(cls.starts_at, Client.first_name, cls.id)
        )

    def record_attendance(
        self, attendance: str, remark: str, via: str, by: User | None = None
    ) -> bool:
        """Store present/absent; returns False when nothing changed.

        A first confirmed presence completes 'Eerste keer samen'; an absence told by the
        provider gives the mediator a to-do ("Bel Amina: afwezig op 5/12").
        """
        assert attendance in ("present", "absent", "")
        if attendance == self.attendance and remark == self.attendance_remark:
            return False
        enrolment, case = self.enrolment, self.enrolment.case
        changed_value = attendance != self.attendance
        with database.atomic():
            self.attendance, self.attendance_remark = attendance, remark
            self.confirmed_at = utcnow() if attendance else None
            self.confirmed_via = via if attendance else ""
            self.save(
                only=[
                    Session.attendance,
                    Session.attendance_remark,
                    Session.confirmed_at,
                    Session.confirmed_via,
                ]
            )
            if changed_value and attendance:
                detail = f"{enrolment.activity.title}, {session_label(self.starts_at)}"
                if remark:
                    detail = f"{detail}: {remark}"[:300]
                CaseEvent.create(
                    case=case,
                    actor=by,
                    kind=f"attendance_{attendance}",
                    detail=detail,
                    # Credited to the provider by name, not to "a client or partner".
                    outside_actor=enrolment.activity.provider.name if via == "provider" else None,
                )
                if attendance == "present":
                    case.complete_step_by_event("attended", by)
                    case.refresh_position()
                elif via == "provider":
                    client = Client.get_by_id(case.client_id)
                    day = to_local(self.starts_at)
                    # Stored text for the mediator, so in the team's language.
                    Task.add(
                        case,
                        f"Bel {client.first_name}: afwezig op {day.day}/{day.month}",
                        local_today(),
                        by,
                        source="attendance",
                    )
            case.touch()
        return True

    def record_cant_come(self, message: str) -> None:
        """The client says they cannot come: a message for the mediator on Vandaag and the
        timeline."""
        with database.atomic():
            self.cant_come_at, self.cant_come_message = utcnow(), message
            self.save(only=[Session.cant_come_at, Session.cant_come_message])
            detail = f"{self.enrolment.activity.title}, {session_label(self.starts_at)}"
            if message:
                detail = f"{detail}: “{message}”"
            CaseEvent.create(case=self.enrolment.case, kind="cant_come", detail=detail[:500])
            self.enrolment.case.touch()

    def take_back_cant_come(self) -> None:
        """The client can come after all: the message leaves Vandaag, the timeline keeps both."""
        with database.atomic():
            self.cant_come_at, self.cant_come_message = None, ""
            self.save()
            detail = f"{self.enrolment.activity.title}, {session_label(self.starts_at)}"
            CaseEvent.create(case=self.enrolment.case, kind="can_come_again", detail=detail)
            self.enrolment.case.touch()


def session_label(starts_at: dt.datetime) -> str:
    """A short Dutch date and time for the timeline: 'za 5/12 10:00'."""
    local = to_local(starts_at)
    days = ("ma", "di", "wo", "do", "vr", "za", "zo")
    return f"{days[local.weekday()]} {local.day}/{local.month} {local:%H:%M}"


# The case page shows of each enrolment its last sessions begun (today's included) and its
# next ones, this many of each, and how many more follow.
SESSIONS_SHOWN = 3


def split_sessions(sessions: list[Session]) -> dict[str, object]:
    """For the case page: one enrolment's sessions as `sessions_of_case` gives them, as the
    last begun, the next ones and how many more follow."""
    tomorrow = local_today() + dt.timedelta(days=1)
    past = [s for s in sessions if to_local(s.starts_at).date() < tomorrow]
    coming = [s for s in sessions if to_local(s.starts_at).date() >= tomorrow]
    later = coming[0].coming_in_all - len(coming) if coming else 0
    return {"past": past, "next": coming, "later": later}


# Vandaag lists the first sessions of today and tomorrow; a team's busy day has hundreds.
TODAY_SESSIONS_LIMIT = 20


def enrolments_for_case(case: Case) -> Rows[Enrolment]:
    """The case's enrolments with their activity and provider, running ones first (one query,
    read when first used)."""

    def of_this_case(enrolments: list[Enrolment]) -> list[Enrolment]:
        for enrolment in enrolments:
            enrolment.case = case
        return enrolments

    return _enrolments_of_case.rows(case.id, finish=of_this_case)


def sessions_between(
    user: User | None, start: object, end: object, limit: int | None = None
) -> Rows[Session]:
    """Sessions starting in [start, end) on the cases of `user` (all cases when None), with their
    enrolment, activity, case and client, the first `limit` of them — for Vandaag (one query,
    read when first used)."""
    query = (
        Session.select(Session, Enrolment, Activity, Case, Client)
        .join(Enrolment)
        .join(Activity)
        .switch(Enrolment)
        .join(Case)
        .join(Client)
        .where(
            Session.starts_at >= start,
            Session.starts_at < end,
            Enrolment.status == "active",
            Case.status == "open",  # a closed case asks nothing more of the mediator
        )
        .order_by(Session.starts_at, Session.id)
        .limit(limit)
    )
    if user is not None:
        query = query.where(Case.mediator == user)
    return sent(query)


def cant_come_messages(user: User | None, days: int = 7, limit: int = 20) -> Rows[Session]:
    """Sessions a client said they cannot come to, told in the last days and not long past,
    newest first, with activity, case and client (one query, read when first used)."""
    now = utcnow()
    query = (
        Session.select(Session, Enrolment, Activity, Case, Client)
        .join(Enrolment)
        .join(Activity)
        .switch(Enrolment)
        .join(Case)
        .join(Client)
        .where(
            Session.cant_come_at >= now - dt.timedelta(days=days),
            Session.starts_at >= now - dt.timedelta(days=1),
            Enrolment.status == "active",
        )
        .order_by(Session.cant_come_at.desc())
        .limit(limit)
    )
    if user is not None:
        query = query.where(Case.mediator == user)
    return sent(query)


_enrolments_of_case = Prepared(
    lambda case_id: (
        Enrolment.select(Enrolment, Activity, Provider)
        .join(Activity)
        .join(Provider)
        .where(Enrolment.case == case_id)
        .order_by(Enrolment.status, Enrolment.created_at.desc(), Enrolment.id.desc())
    )
)


def _shown_sessions_of(case_id: int, tomorrow: dt.datetime):  # type: ignore[no-untyped-def]
    # Each enrolment's sessions in two parts, begun and to come, ranked from the last: of the
    # begun ones the first SESSIONS_SHOWN, of those to come the last SESSIONS_SHOWN by rank.
    # Only the ids are ranked (a narrow sort); the shown sessions are then read whole.
    part = [Session.enrolment, Session.starts_at < tomorrow]
    ranked = (
        Session.select(
            Session.id,
            Session.starts_at,
            fn.ROW_NUMBER()
            .over(partition_by=part, order_by=[Session.starts_at.desc(), Session.id.desc()])
            .alias("from_last"),
            fn.COUNT(Session.id).over(partition_by=part).alias("in_part"),
        )
        .join(Enrolment)
        .where(Enrolment.case == case_id)
        .alias("ranked")
    )
    return (
        Session.select(Session, ranked.c.in_part.alias("coming_in_all"))
        .join(ranked, on=(Session.id == ranked.c.id))
        .where(
            ((ranked.c.starts_at < tomorrow) & (ranked.c.from_last <= SESSIONS_SHOWN))
            | (
                (ranked.c.starts_at >= tomorrow)
                & (ranked.c.from_last > ranked.c.in_part - SESSIONS_SHOWN)
            )
        )
        .order_by(Session.starts_at, Session.id)
        .objects()  # coming_in_all on the session itself
    )


# Read by rank in the database: an enrolment of ten years has five hundred sessions.
_sessions_of_case = Prepared(_shown_sessions_of)


def sessions_of_case(case_id: int) -> Rows[Session]:
    """Of each enrolment of the case, the last SESSIONS_SHOWN sessions begun (today's
    included) and the next SESSIONS_SHOWN, earliest first, each coming one with how many come
    in all (`coming_in_all`): one query, however long the enrolments run, read when first
    used."""
    tomorrow = to_utc(dt.datetime.combine(local_today() + dt.timedelta(days=1), dt.time()))
    return _sessions_of_case.rows(case_id, tomorrow)
