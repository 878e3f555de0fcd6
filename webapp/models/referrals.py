"""The front door: referring organisations and the referrals their social workers send in."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    TextField,
)

from webapp.db import BaseModel
from webapp.models.cases import Case
from webapp.models.people import Client, User
from webapp.timeutil import utcnow

ORGANISATION_KINDS = {
    "ocmw": _l("OCMW sociaal centrum"),
    "caw": _l("CAW"),
    "huis_van_het_kind": _l("Huis van het Kind"),
    "school": _l("school / CLB / OKAN-klas"),
    "atlas": _l("Atlas"),
    "buurtwerk": _l("buurtwerk / Samenlevingsopbouw"),
    "jeugdhulp": _l("jeugdhulp"),
    "andere": _l("andere"),
}
FIRST_CONTACT = {
    "huisbezoek": _l("huisbezoek"),
    "permanentie": _l("op de permanentie"),
    "doorverwijzer": _l("bij de doorverwijzer"),
}
REFERRAL_STATUSES = {
    "new": _l("nieuw"),
    "accepted": _l("aanvaard"),
    "declined": _l("niet aanvaard"),
}


class ReferringOrganisation(BaseModel):
    name = CharField(max_length=120)
    kind = CharField(max_length=20, default="andere", index=True)
    district = CharField(max_length=40, default="")
    email = CharField(max_length=254, default="")
    phone = CharField(max_length=30, default="")
    archived = BooleanField(default=False, index=True)
    created_at = DateTimeField(default=utcnow)


class Referral(BaseModel):
    organisation = ForeignKeyField(ReferringOrganisation, backref="referrals", index=True)
    reference = CharField(max_length=20, unique=True)
    idempotency_key = CharField(max_length=64, unique=True)
    referrer_name = CharField(max_length=100)
    referrer_role = CharField(max_length=100, default="")
    referrer_phone = CharField(max_length=30, default="")
    referrer_email = CharField(max_length=254, default="")
    first_name = CharField(max_length=80)
    last_name = CharField(max_length=80)
    birth_date = DateField(null=True)
    phone = CharField(max_length=30, default="")
    language = CharField(max_length=5, default="nl")
    district = CharField(max_length=40, default="")
    household = TextField(default="")
    domains = CharField(max_length=40, default="")
    question = TextField(default="")
    known_thresholds = CharField(max_length=200, default="")  # comma-separated category keys
    first_contact = CharField(max_length=20, default="")
    consent_text = TextField(default="")
    status = CharField(max_length=10, default="new", index=True)
    decline_reason = CharField(max_length=300, default="")
    client = ForeignKeyField(Client, null=True, index=True)
    case = ForeignKeyField(Case, null=True, index=True, backref="referrals")
    submitted_at = DateTimeField(default=utcnow, index=True)
    handled_at = DateTimeField(null=True)
    handled_by = ForeignKeyField(User, null=True, index=True)


def today_referral_context(user: User) -> dict[str, object]:
    """What Vandaag shows of the front door (templates/referrals/_today_intake.html)."""
    return {"waiting_referrals": referrals_waiting() if user.is_coordinator else []}


def referrals_waiting() -> list[Referral]:
    """Referrals not yet accepted or declined, oldest first, with their organisation."""
    return list(
        Referral.select(Referral, ReferringOrganisation)
        .join(ReferringOrganisation)
        .where(Referral.status == "new")
        .order_by(Referral.submitted_at)
    )
