"""Outgoing messages (SMS and e-mail): one row per message, planned first, sent later by
`flask --app wsgi send-messages` (webapp/messages.py). The row never holds the text: a text
with a link is made at the moment of sending, because only a link's hash is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

from flask_babel import lazy_gettext as _l
from peewee import (
    JOIN,
    CharField,
    DateField,
    DateTimeField,
    Field,
    ForeignKeyField,
    IntegerField,
    fn,
)

from webapp.db import BaseModel
from webapp.models.cases import Case, Visit
from webapp.models.offer import Enrolment, Session
from webapp.models.people import Client, User
from webapp.timeutil import utcnow

MESSAGE_KINDS = {
    "client_session": _l("sms-herinnering activiteit"),
    "client_visit": _l("sms-herinnering afspraak"),
    "provider_sessions": _l("e-mail aanwezigheid aan partner"),
    "provider_reminder": _l("herinnering aanwezigheid aan partner"),
    "mediator_summary": _l("dagoverzicht per e-mail"),
}
MESSAGE_STATUSES = {
    "queued": _l("wacht"),
    "sent": _l("verstuurd"),
    "failed": _l("mislukt"),
    "not_sent": _l("niet verstuurd"),
}
NOT_SENT_REASONS = {
    "no_transport": _l("geen verzending ingesteld"),
    "no_consent": _l("geen toestemming"),
    "stopped": _l("cliënt wil geen berichten"),
    "no_address": _l("geen telefoon of e-mail"),
    "no_link": _l("geen geldige link"),
    "too_late": _l("te laat"),
}
# The consent wording shown to the client and stored with the consent (what they agreed to).
CONSENT_WORDING = (
    "Ik wil een sms krijgen de dag voor een activiteit of afspraak, met mijn voornaam, de dag, "
    "het uur, de plaats en mijn persoonlijke link."
)


class Message(BaseModel):
    """One message to one person about one thing on one day; (kind, target, due_on) is unique,
    so planning the same message twice, on any number of servers, makes one row."""

    kind = CharField(max_length=20)
    channel = CharField(max_length=5)  # sms | email
    target = CharField(max_length=40)  # what it is about: "session:12", "user:3"
    due_on = DateField()  # the Brussels day it belongs to
    case = ForeignKeyField(Case, null=True, index=True, on_delete="CASCADE")
    case_id: Field[int | None]
    client = ForeignKeyField(Client, null=True, index=True, on_delete="CASCADE")
    client_id: Field[int | None]
    user = ForeignKeyField(User, null=True, index=True, on_delete="CASCADE")
    user_id: Field[int | None]
    session = ForeignKeyField(Session, null=True, index=True, on_delete="CASCADE")
    session_id: Field[int | None]
    visit = ForeignKeyField(Visit, null=True, index=True, on_delete="CASCADE")
    visit_id: Field[int | None]
    enrolment = ForeignKeyField(Enrolment, null=True, index=True, on_delete="CASCADE")
    enrolment_id: Field[int | None]
    status = CharField(max_length=10, default="queued")
    reason = CharField(max_length=20, default="")  # a NOT_SENT_REASONS key, or the last error
    attempts = IntegerField(default=0)
    next_try_at = DateTimeField(default=utcnow)
    claimed_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "messages"
        indexes = (
            (("kind", "target", "due_on"), True),
            (("status", "next_try_at"), False),
            # The day's list and its counts read the status from the index, not each row.
            (("updated_at", "status"), False),
        )

    @property
    def kind_label(self) -> str:
        return str(MESSAGE_KINDS.get(self.kind, self.kind))

    @property
    def status_label(self) -> str:
        label = str(MESSAGE_STATUSES.get(self.status, self.status))
        if self.status == "not_sent" and self.reason in NOT_SENT_REASONS:
            return f"{label} — {NOT_SENT_REASONS[self.reason]}"
        return label

    @classmethod
    def claim(cls, message_id: int, now: dt.datetime) -> bool:
        """Take this message for sending; True for exactly one caller on any server. A claim
        left by a process that died is taken over after STALE_CLAIM."""
        stale = now - STALE_CLAIM
        taken = (
            cls.update(claimed_at=now, attempts=cls.attempts + 1)
            .where(
                cls.id == message_id,
                cls.status == "queued",
                cls.claimed_at.is_null() | (cls.claimed_at < stale),
            )
            .execute()
        )
        return taken == 1

    @classmethod
    def of_day(cls, start: dt.datetime, end: dt.datetime):  # type: ignore[no-untyped-def]
        """Messages sent or failed in [start, end), with their case's client's name (one
        query, only the columns the list shows: a busy day holds thousands)."""
        return (
            cls.select(
                cls.id,
                cls.kind,
                cls.status,
                cls.reason,
                cls.updated_at,
                cls.case,
                Case.id,
                Case.client,
                Client.id,
                Client.first_name,
                Client.last_name,
            )
            .join(Case, JOIN.LEFT_OUTER, on=(cls.case == Case.id))
            .join(Client, JOIN.LEFT_OUTER, on=(Case.client == Client.id))
            .where(
                cls.status.in_(["sent", "failed"]),
                cls.updated_at >= start,
                cls.updated_at < end,
            )
            .order_by(cls.updated_at.desc(), cls.id.desc())
        )

    @classmethod
    def counts_of_day(cls, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        """How many messages were sent and how many failed in [start, end) (one query)."""
        rows = (
            cls.select(cls.status, fn.COUNT(cls.id))
            .where(
                cls.status.in_(["sent", "failed"]),
                cls.updated_at >= start,
                cls.updated_at < end,
            )
            .group_by(cls.status)
            .tuples()
        )
        counted = cast("Iterable[tuple[str, int]]", rows)
        return {"sent": 0, "failed": 0, **dict(counted)}


STALE_CLAIM = dt.timedelta(minutes=30)
