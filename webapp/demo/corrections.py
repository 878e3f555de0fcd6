"""Demo corrections: a contact entered twice and removed, one corrected, a plan moved — as a
mediator leaves them after a few weeks' work, with their timeline lines and audit rows."""

from __future__ import annotations

import datetime as dt
import random

from webapp.models import AuditEvent, Case, CaseEvent, User, Visit
from webapp.timeutil import to_local, utcnow


def _day(when: dt.datetime) -> str:
    local = to_local(when)
    return f"{local.day}/{local.month}"


def _moment(when: dt.datetime) -> str:
    local = to_local(when)
    return f"{local.day}/{local.month} {local:%H:%M}"


def seed(rng: random.Random, users: list[User], cases: list[Case]) -> None:
    """On open cases of the first mediator: one duplicate removed, one contact corrected, and
    one planned contact of tomorrow moved."""
    now = utcnow()
    mediator = next(u for u in users if u.role == "mediator")
    recent = list(
        Visit.select()
        .join(Case)
        .where(
            Case.mediator == mediator,
            Case.status == "open",
            Visit.planned == False,  # noqa: E712
            Visit.occurred_at >= now - dt.timedelta(days=30),
        )
        .order_by(Visit.occurred_at.desc())
    )
    by_case: dict[int, Visit] = {}
    for visit in recent:
        by_case.setdefault(visit.case_id, visit)
    latest = list(by_case.values())
    if latest:
        original = latest[0]
        twice = Visit.create(
            case=original.case_id,
            mediator=mediator,
            contact_type=original.contact_type,
            occurred_at=original.occurred_at,
            duration_minutes=original.duration_minutes,
            contact_made=original.contact_made,
            idempotency_key=f"demo-dubbel-{original.id}",
            created_at=original.occurred_at + dt.timedelta(minutes=40),
            recorded_at=original.occurred_at + dt.timedelta(minutes=40),
            removed_at=original.occurred_at + dt.timedelta(hours=3),
            removed_reason="duplicate",
            version=2,
        )
        CaseEvent.create(
            case=original.case_id,
            at=twice.created_at,
            actor=mediator,
            kind="visit",
            visit=twice,
        )
        CaseEvent.create(
            case=original.case_id,
            at=twice.removed_at,
            actor=mediator,
            kind="visit_removed",
            visit=twice,
            detail=f"Contact van {_day(twice.occurred_at)} verwijderd: dubbel",
        )
        AuditEvent.create(
            at=twice.created_at,
            user=mediator,
            action="create",
            object_type="visit",
            object_id=twice.id,
        )
        AuditEvent.create(
            at=twice.removed_at,
            user=mediator,
            action="remove",
            object_type="visit",
            object_id=twice.id,
            fields="removed_reason",
        )
    if len(latest) > 1:
        corrected = latest[1]
        at = min(corrected.occurred_at + dt.timedelta(hours=20), now - dt.timedelta(minutes=5))
        Visit.update(
            duration_minutes=corrected.duration_minutes + 15,
            notes=corrected.notes + " Daarna nog samen het inschrijvingsformulier ingevuld.",
            version=2,
        ).where(Visit.id == corrected.id).execute()
        CaseEvent.create(
            case=corrected.case_id,
            at=at,
            actor=mediator,
            kind="visit_corrected",
            visit=corrected,
            detail=f"Contact van {_day(corrected.occurred_at)} aangepast: duur, notities",
        )
        AuditEvent.create(
            at=at,
            user=mediator,
            action="update",
            object_type="visit",
            object_id=corrected.id,
            fields="duration_minutes,notes",
        )
    plan = (
        Visit.select()
        .join(Case)
        .where(
            Case.mediator == mediator,
            Visit.planned == True,  # noqa: E712
            Visit.occurred_at > now + dt.timedelta(hours=12),
        )
        .order_by(Visit.occurred_at)
        .first()
    )
    if plan is not None:
        before = plan.occurred_at - dt.timedelta(days=rng.choice([1, 2]))
        CaseEvent.create(
            case=plan.case_id,
            at=now,
            actor=mediator,
            kind="visit_moved",
            visit=plan,
            detail=f"Afspraak van {_moment(before)} verplaatst naar {_moment(plan.occurred_at)}",
        )
        Visit.update(version=2).where(Visit.id == plan.id).execute()
        AuditEvent.create(
            at=now,
            user=mediator,
            action="move",
            object_type="visit",
            object_id=plan.id,
            fields="occurred_at",
        )
