"""Demo messages: consent on most clients, one who asked to stop, a planned home visit with
"herinnering sturen", the coordinator's summary, and reminders sent, failed and not sent on the
timelines (as send-messages leaves them; run it to send what is due now)."""

from __future__ import annotations

import datetime as dt
import random

from flask_babel import force_locale

from webapp.models import (
    CONSENT_WORDING,
    MESSAGE_KINDS,
    NOT_SENT_REASONS,
    Case,
    CaseEvent,
    Client,
    Enrolment,
    Message,
    Session,
    User,
    Visit,
)
from webapp.timeutil import to_local, utcnow


def seed(rng: random.Random, users: list[User], cases: list[Case]) -> None:
    now = utcnow()
    open_cases = [c for c in cases if c.status == "open"]
    for index, case in enumerate(open_cases):
        if index % 4 == 3:
            continue  # not asked yet
        values = {
            "messages_consent_at": now - dt.timedelta(days=rng.randint(5, 60)),
            "messages_consent_wording": CONSENT_WORDING,
        }
        if index == 2:
            values["messages_stopped_at"] = now - dt.timedelta(days=2)
        Client.update(**values).where(Client.id == case.client_id).execute()
    coordinator = next(u for u in users if u.role == "coordinator")
    User.update(daily_summary=True).where(User.id == coordinator.id).execute()
    Visit.update(remind_client=True).where(
        Visit.planned == True,  # noqa: E712
        Visit.occurred_at > now,
        Visit.contact_type == "huisbezoek",
        Visit.removed_at.is_null(),
    ).execute()
    recent = list(
        Session.select(Session, Enrolment, Case)
        .join(Enrolment)
        .join(Case)
        .where(Session.starts_at < now, Session.starts_at > now - dt.timedelta(days=10))
        .order_by(Session.starts_at)
        .limit(8)
    )
    outcomes = ["sent", "sent", "sent", "failed", "sent", "not_sent", "sent", "sent"]
    for session, status in zip(recent, outcomes, strict=False):
        case = session.enrolment.case
        at = min(session.starts_at - dt.timedelta(hours=20), now)
        if status == "sent" and session is recent[-1]:
            at = now - dt.timedelta(hours=1)  # one of today, for the coordinator's list
        reason = (
            "no_consent" if status == "not_sent" else ("HTTP 500" if status == "failed" else "")
        )
        Message.create(
            kind="client_session",
            channel="sms",
            target=f"session:{session.id}",
            due_on=to_local(session.starts_at).date(),
            case=case,
            client=case.client_id,
            session=session,
            status=status,
            reason=reason,
            attempts=4 if status == "failed" else 1,
            created_at=at,
            next_try_at=at,
            sent_at=at if status == "sent" else None,
            updated_at=at,
        )
        with force_locale("nl"):  # the timeline keeps the team's words
            detail = str(MESSAGE_KINDS["client_session"])
            if status == "not_sent":
                detail += " — " + str(NOT_SENT_REASONS[reason])
        CaseEvent.create(case=case, at=at, kind=f"message_{status}", detail=detail)
