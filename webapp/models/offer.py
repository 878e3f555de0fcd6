"""The leisure offer: providers, their activities, enrolments of clients and the sessions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from webapp.db import BaseModel
from webapp.models.cases import Case
from webapp.models.people import User
from webapp.timeutil import utcnow

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


class Provider(BaseModel):
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


class Activity(BaseModel):
    provider = ForeignKeyField(Provider, backref="activities", index=True)
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
    accessibility = CharField(max_length=300, default="")
    archived = BooleanField(default=False, index=True)
    created_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)


class Enrolment(BaseModel):
    case = ForeignKeyField(Case, backref="enrolments", index=True, on_delete="CASCADE")
    activity = ForeignKeyField(Activity, backref="enrolments", index=True)
    status = CharField(max_length=10, default="active", index=True)
    cost_arrangement = CharField(max_length=12, default="reduced")
    stop_reason = CharField(max_length=300, default="")
    created_by = ForeignKeyField(User, null=True, index=True)
    created_at = DateTimeField(default=utcnow)
    stopped_at = DateTimeField(null=True)


class Session(BaseModel):
    """One meeting of an enrolment: the client goes to the activity at a given time."""

    enrolment = ForeignKeyField(Enrolment, backref="sessions", index=True, on_delete="CASCADE")
    starts_at = DateTimeField(index=True)
    ends_at = DateTimeField(null=True)
    meeting_point = CharField(max_length=200, default="")
    companion = ForeignKeyField(User, null=True, index=True)  # the mediator who goes along
    attendance = CharField(max_length=10, default="")
    attendance_remark = CharField(max_length=300, default="")
    confirmed_at = DateTimeField(null=True)
    confirmed_via = CharField(max_length=10, default="")  # provider | mediator
    cant_come_at = DateTimeField(null=True)
    cant_come_message = CharField(max_length=300, default="")

    class Meta:
        table_name = "activity_sessions"


def case_offer_context(case: Case) -> dict[str, object]:
    """What the case page shows of the offer (templates/activities/_case_enrolments.html)."""
    return {"enrolments": enrolments_for_case(case)}


def today_offer_context(user: User, start: object, end: object) -> dict[str, object]:
    """What Vandaag shows of the offer (templates/activities/_today_sessions.html)."""
    return {"sessions": sessions_between(None if user.is_coordinator else user, start, end)}


def enrolments_for_case(case: Case) -> list[Enrolment]:
    """The case's enrolments with their activity and provider, newest first (one query)."""
    return list(
        Enrolment.select(Enrolment, Activity, Provider)
        .join(Activity)
        .join(Provider)
        .where(Enrolment.case == case)
        .order_by(Enrolment.created_at.desc())
    )


def sessions_between(user: User | None, start: object, end: object) -> list[Session]:
    """Sessions starting in [start, end) on the cases of `user` (all cases when None), with their
    enrolment, activity, case and client — for Vandaag (one query)."""
    from webapp.models.people import Client

    query = (
        Session.select(Session, Enrolment, Activity, Case, Client)
        .join(Enrolment)
        .join(Activity)
        .switch(Enrolment)
        .join(Case)
        .join(Client)
        .where(Session.starts_at >= start, Session.starts_at < end, Enrolment.status == "active")
        .order_by(Session.starts_at)
    )
    if user is not None:
        query = query.where(Case.mediator == user)
    return list(query)
