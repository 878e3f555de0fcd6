"""The front door: referring organisations and the referrals their social workers send in."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Field,
    ForeignKeyField,
    IntegerField,
    ModelSelect,
    Select,
    TextField,
    fn,
)

from webapp.db import (
    BaseModel,
    Prepared,
    create_row_trigger,
    database,
    likely,
    without_index,
)
from webapp.models.cases import Case, CaseEvent, StepDefinition, Visit, in_team_language
from webapp.models.offer import Enrolment
from webapp.models.people import Client, User, postal_address
from webapp.models.search import Searchable, compact, fold, matches_all, name_parts, phone_forms
from webapp.models.tasks import (
    FIRST_CONTACT_TERM,  # the form promises contact within the week
    first_contact_task,
)
from webapp.models.thresholds import CaseThreshold, ThresholdCategory
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
# Who a person asked for on /vraag, and the best moment to call them.
FOR_WHOM = {
    "ik": _l("voor zichzelf"),
    "kind": _l("voor een kind"),
    "gezin": _l("voor het gezin"),
}
CALL_MOMENTS = {
    "morgen": _l("'s morgens (9–12 uur)"),
    "middag": _l("'s middags (12–14 uur)"),
    "namiddag": _l("'s namiddags (14–17 uur)"),
    "altijd": _l("om het even wanneer"),
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
    version = IntegerField(default=1)  # optimistic locking of the edit form

    @property
    def kind_label(self) -> str:
        return str(ORGANISATION_KINDS.get(self.kind, self.kind))

    @classmethod
    def listed(cls, include_archived: bool = False):  # type: ignore[no-untyped-def]
        query = cls.select()
        if not include_archived:
            query = query.where(cls.archived == False)  # noqa: E712
        return query.order_by(cls.archived, cls.name)


class Referral(Searchable, BaseModel):
    # None for a request a person sent in themselves (source "zelf", /vraag).
    organisation = ForeignKeyField(
        ReferringOrganisation, backref="referrals", index=True, null=True
    )
    organisation_id: Field[int | None]
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
    # Where to go for a first home visit (nullable: init-db adds them to older databases).
    street = CharField(max_length=120, null=True)
    postcode = CharField(max_length=4, null=True)
    household = TextField(default="")
    domains = CharField(max_length=40, default="")  # comma-separated DOMAINS keys
    interests = CharField(max_length=200, default="")
    question = TextField(default="")
    known_thresholds = CharField(max_length=200, default="")  # comma-separated category keys
    first_contact = CharField(max_length=20, default="")
    consent_text = TextField(default="")
    status = CharField(max_length=10, default="new", index=True)
    decline_reason = CharField(max_length=300, default="")
    client = ForeignKeyField(Client, null=True, index=True)
    client_id: Field[int | None]
    case = ForeignKeyField(Case, null=True, index=True, backref="referrals")
    case_id: Field[int | None]
    submitted_at = DateTimeField(default=utcnow, index=True)
    handled_at = DateTimeField(null=True, index=True)  # the intake's "handled lately"
    handled_by = ForeignKeyField(User, null=True, index=True)
    handled_by_id: Field[int | None]
    # A request from /vraag: source "zelf" (None: a referrer's form), and what it asks besides
    # the referral's own fields (nullable: init-db adds them to older databases).
    source = CharField(max_length=20, null=True)
    for_whom = CharField(max_length=10, null=True)
    age = IntegerField(null=True)
    email = CharField(max_length=254, null=True)
    whatsapp = BooleanField(null=True)
    call_moment = CharField(max_length=10, null=True)
    # Folded name, phone forms and reference, kept by the model (models/search.py).
    search_text = TextField(null=True, default="")

    SEARCHED_FIELDS = ("first_name", "last_name", "phone", "reference")

    class Meta:
        # The referrer's status list: an organisation's newest referrals; the intake's waiting
        # ones (status "new"), oldest first, without reading the thousands handled before.
        indexes = (
            (("organisation", "submitted_at"), False),
            (("status", "submitted_at"), False),
        )

    @classmethod
    def search_parts(cls, values: Mapping[str, Any]) -> list[str]:
        reference = values.get("reference") or ""
        return [
            *name_parts(values.get("first_name"), values.get("last_name")),
            " ".join(phone_forms(values.get("phone"))),
            fold(reference),
            compact(reference),
        ]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_self_request(self) -> bool:
        return self.source == "zelf"

    @property
    def sender(self) -> str:
        """Who sent it in: the referring organisation, or the person themselves."""
        if self.organisation is None:  # no query when organisation_id is None
            return str(_l("zelf gevraagd via /vraag"))
        return self.organisation.name

    @property
    def address(self) -> str:
        return postal_address(self.street or "", self.postcode or "", self.district)

    @property
    def domain_list(self) -> list[str]:
        return [d for d in self.domains.split(",") if d]

    @property
    def threshold_keys(self) -> list[str]:
        return [k for k in self.known_thresholds.split(",") if k]

    @property
    def is_new(self) -> bool:
        return self.status == "new"

    @classmethod
    def by_key(cls, key: str) -> Referral | None:
        return cls.get_or_none(cls.idempotency_key == key)

    @classmethod
    def submit(cls, organisation: ReferringOrganisation | None, **fields: object) -> Referral:
        """Store a referral and give it its reference number, e.g. VB-2026-0042."""
        with database.atomic():
            referral = cls.create(
                organisation=organisation, reference=uuid.uuid4().hex[:20], **fields
            )
            referral.reference = f"VB-{referral.submitted_at.year}-{referral.id:04d}"
            cls.update(reference=referral.reference).where(cls.id == referral.id).execute()
        return referral

    @classmethod
    def get_with_organisation(cls, referral_id: int) -> Referral | None:
        return (
            cls.select(cls, ReferringOrganisation)
            .join(ReferringOrganisation, JOIN.LEFT_OUTER)
            .where(cls.id == referral_id)
            .first()
        )

    @classmethod
    def cases_with_reference(cls, q: str) -> Select | None:
        """For the caseload search: the cases whose referral's reference is typed in q, any
        way ("VB-2026-0042", "vb 2026 0042", "0042"); None when q has no digits."""
        if not any(c.isdigit() for c in q):
            return None
        reference = fold(q).replace(" ", "")
        return cls.select(cls.case).where(matches_all(cls, [reference]))

    @classmethod
    def for_case(cls, case: Case) -> Referral | None:
        """The referral a case was opened from, with its organisation (one query)."""
        return _referral_of_case.first(case.id)

    @classmethod
    def recently_handled(cls, limit: int = 20) -> list[Referral]:
        return list(
            cls.select(cls, ReferringOrganisation)
            .join(ReferringOrganisation, JOIN.LEFT_OUTER)
            .where(cls.status != "new")
            .order_by(cls.handled_at.desc(), cls.id.desc())
            .limit(limit)
        )

    def candidates(self) -> list[Client]:
        """Existing clients with the same first name, last name and birth date."""
        if self.birth_date is None:
            return []
        return list(
            Client.probable_duplicates(self.first_name, self.last_name, self.birth_date).order_by(
                Client.id
            )
        )

    def _claim(self, by: User, **fields: object) -> bool:
        """Mark the referral handled, only if nobody else handled it first."""
        now = utcnow()
        changed = (
            Referral.update(handled_at=now, handled_by=by, **fields)
            .where(Referral.id == self.id, Referral.status == "new")
            .execute()
        )
        if changed:
            self.handled_at, self.handled_by = now, by
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(changed)

    def accept(self, by: User, mediator: User, client: Client | None) -> Case | None:
        """Open a case at 'Aanmelding' for the referred person, for an existing client or a new
        one, with the thresholds the referrer already knew. None when it was already handled."""
        with database.atomic():
            if not self._claim(by, status="accepted"):
                return None
            if client is None:
                client = Client.create(
                    first_name=self.first_name,
                    last_name=self.last_name,
                    birth_date=self.birth_date,
                    phone=self.phone,
                    street=self.street or "",
                    postcode=self.postcode or "",
                    district=self.district,
                    language=self.language,
                    household_note=self.household,
                    email=self.email or "",
                )
            elif self.street and not client.street:
                # A known client without an address on file: the referrer's one fills the gap.
                Client.update(
                    street=self.street,
                    postcode=self.postcode or "",
                    version=Client.version + 1,
                    updated_at=utcnow(),
                ).where(Client.id == client.id).execute()
            question = self.question
            if self.interests:
                # Stored for colleagues: in the team's language, whatever the screen's.
                with in_team_language():
                    question = f"{question}\n{_l('Interesses')}: {self.interests}".strip()
            case = Case.open_for(
                client,
                mediator,
                by=by,
                source="zelf" if self.is_self_request else "doorverwijzing",
                question=question,
                interests=self.domains,
            )
            Referral.update(client=client.id, case=case.id).where(Referral.id == self.id).execute()
            self.client, self.case = client, case
            CaseEvent.create(
                case=case,
                actor=by,
                kind="referral_accepted",
                detail=f"{self.sender} · {self.reference}"[:500],
            )
            # What to do first, on the mediator's Vandaag: the contact the referrer asked for.
            first_contact_task(case, self.first_contact, self.submitted_at, by)
            keys = self.threshold_keys
            with in_team_language():
                note = str(_l("Gemeld door de doorverwijzer"))
            if keys:
                categories = ThresholdCategory.select().where(ThresholdCategory.key.in_(keys))
                CaseThreshold.insert_many(
                    [
                        {
                            "case": case.id,
                            "category": c.id,
                            "note": note,
                            "created_by": by.id,
                        }
                        for c in categories
                    ]
                ).execute()
        return case

    def decline(self, by: User, reason: str) -> bool:
        return self._claim(by, status="declined", decline_reason=reason)


def referrals_waiting(limit: int | None = None) -> list[Referral]:
    """Referrals not yet accepted or declined, oldest first, with their organisation."""
    query = (
        Referral.select(Referral, ReferringOrganisation)
        .join(ReferringOrganisation, JOIN.LEFT_OUTER)
        .where(Referral.status == "new")
        .order_by(Referral.submitted_at, Referral.id)
    )
    if limit:
        query = query.limit(limit)
    return list(query)


# What a referrer may follow of the referrals sent through their organisation's link: a status,
# never a note, a threshold or the name of the person (see referrals/public.py:status_list).
REFERRER_STATUSES = {
    "received": _l("ontvangen"),
    "accepted": _l("aanvaard"),
    "first_contact": _l("eerste contact gemaakt"),
    "enrolled": _l("ingeschreven voor een activiteit"),
    "closed": _l("afgesloten"),
}
REFERRER_PAGE_SIZE = 20  # a phone screen or two; "Meer tonen" for older ones


def _first_contacts():  # type: ignore[no-untyped-def]
    """Contacts that happened and reached the person: what 'first contact made' means."""
    return Visit.select(Visit.case).where(
        Visit.planned == False,  # noqa: E712
        Visit.contact_made == True,  # noqa: E712
        Visit.kept(),
    )


def _cases_with_first_contact(case_ids: list[int]) -> set[int]:
    if not case_ids:
        return set()
    return {v.case_id for v in _first_contacts().where(Visit.case.in_(case_ids)).distinct()}


def _cases_enrolled(case_ids: list[int]) -> set[int]:
    if not case_ids:
        return set()
    return {e.case_id for e in Enrolment.select(Enrolment.case).where(Enrolment.case.in_(case_ids))}


def referrer_status(referral: Referral, contacted: set[int], enrolled: set[int]) -> str:
    """The one REFERRER_STATUSES key a referrer sees for a referral."""
    if referral.status == "declined":
        return "closed"
    if referral.status == "new" or referral.case is None:  # the case is needed next anyway
        return "received"
    if referral.case.status == "closed":
        return "closed"
    if referral.case_id in enrolled:
        return "enrolled"
    if referral.case_id in contacted:
        return "first_contact"
    return "accepted"


def referrals_for_referrer(organisation: ReferringOrganisation) -> ModelSelect[Referral]:
    """The organisation's referrals, newest first (read a page at a time along the
    (organisation, submitted_at) index). Only the columns the referrer's page shows are read;
    `with_referrer_status` adds what the referrer sees of each."""
    return (
        Referral.select(
            Referral.id,
            Referral.reference,
            Referral.referrer_name,
            Referral.submitted_at,
            Referral.status,
            Referral.case,
            Case.id,
            Case.status,
        )
        .join(Case, JOIN.LEFT_OUTER, on=(Referral.case == Case.id))
        .where(Referral.organisation == organisation)
        .order_by(Referral.submitted_at.desc(), Referral.id.desc())
    )


def with_referrer_status(referrals: list[Referral]) -> list[tuple[Referral, str]]:
    """Each referral with its referrer status (two queries, however many referrals)."""
    case_ids = [r.case_id for r in referrals if r.case_id]
    contacted, enrolled = _cases_with_first_contact(case_ids), _cases_enrolled(case_ids)
    return [(r, referrer_status(r, contacted, enrolled)) for r in referrals]


def referrals_without_first_contact(limit: int = 50) -> list[Referral]:
    """Referrals older than the promised term whose person nobody has met yet: still waiting
    for a decision, or accepted on an open case without a contact made (two queries).

    The accepted ones are the open cases that wait for a first contact (`Case.waiting_since`,
    kept by the triggers below), oldest first, still at or before the step a first contact
    completes ('Kennismaking'): a case whose steps were marked done by hand up to there
    counts as met."""
    cutoff = utcnow() - FIRST_CONTACT_TERM

    def listed(join_type: str):  # type: ignore[no-untyped-def]
        # "+column" orders without the date index: each list is found through a narrower one
        # (the referral's status, the case's step) and its few rows sorted. A request from
        # /vraag has no organisation: an outer join keeps it.
        by_date = without_index(Referral.submitted_at)
        return (
            Referral.select(Referral, ReferringOrganisation, Case)
            .join(ReferringOrganisation, JOIN.LEFT_OUTER)
            .switch(Referral)
            .join(Case, join_type, on=(Referral.case == Case.id))
            .order_by(by_date, Referral.id)
            .limit(limit)
        )

    waiting = listed(JOIN.LEFT_OUTER).where(
        Referral.status == "new", likely(Referral.submitted_at < cutoff)
    )
    first_contact_step = StepDefinition.select(fn.MIN(StepDefinition.position)).where(
        StepDefinition.completed_by == "first_contact"
    )
    # The open cases waiting longest for a first contact, along the index on (status,
    # waiting_since): the first `limit` of them, however many wait. Their referrals through
    # referral (case); each case waits since its oldest accepted referral, so these hold the
    # oldest late referrals.
    not_met_cases = (
        Case.select(Case.id)
        .where(
            Case.status == "open",
            Case.waiting_since < cutoff,
            Case.current_position <= first_contact_step,
        )
        .order_by(Case.waiting_since)
        .limit(limit)
    )
    not_met = listed(JOIN.INNER).where(
        Referral.case.in_(not_met_cases),
        Referral.status == "accepted",
        Referral.submitted_at < cutoff,
    )
    rows = [*waiting, *not_met]
    return sorted(rows, key=lambda r: (r.submitted_at, r.id))[:limit]


_referral_of_case = Prepared(
    lambda case_id: (
        Referral.select(Referral, ReferringOrganisation)
        .join(ReferringOrganisation, JOIN.LEFT_OUTER)
        .where(Referral.case == case_id)
        .order_by(Referral.id)
        .limit(1)
    )
)


# --- Since when a case waits for a first contact ------------------------------------------------

# What `Case.waiting_since` is, as SQL for the cases `{where}` selects: empty once a contact
# reached the person (a contact that happened, was made and was not removed: _first_contacts),
# else the day the oldest accepted referral of the case was sent (empty without one).
WAITING_SINCE = (
    'UPDATE "cases" SET waiting_since = CASE WHEN EXISTS ('
    "SELECT 1 FROM visit v WHERE v.case_id = cases.id AND NOT v.planned AND v.contact_made "
    "AND v.removed_at IS NULL) THEN NULL ELSE ("
    "SELECT MIN(r.submitted_at) FROM referral r WHERE r.case_id = cases.id "
    "AND r.status = 'accepted') END WHERE {where};"
)
WAITING_TRIGGERS = {
    "visit": ("case_id", "planned", "contact_made", "removed_at"),
    "referral": ("case_id", "status", "submitted_at"),
}


def create_waiting_triggers(db: Any) -> None:
    """Triggers that keep `Case.waiting_since` as contacts and referrals change, however they
    change (forms, corrections, erasure, scripts); idempotent."""

    def body(event: str, row: str) -> str:
        statement = WAITING_SINCE.format(where=f"id = {row}.case_id")
        if event == "update":  # a contact or referral moved to another case: both cases
            statement = WAITING_SINCE.format(where="id = OLD.case_id") + " " + statement
        return statement

    with db.atomic():
        for table, columns in WAITING_TRIGGERS.items():
            create_row_trigger(db, f"trg_waiting_{table}", table, columns, body)
