"""The audit trail: who viewed or changed which record, never the token and never free text."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN, CharField, DateTimeField, Field, ForeignKeyField, IntegerField, Select

from webapp.db import BaseModel
from webapp.models.cases import VISIT_FIELD_LABELS, Case, Visit
from webapp.models.links import AccessLink
from webapp.models.offer import Enrolment, Session
from webapp.models.people import User
from webapp.models.referrals import Referral
from webapp.models.tasks import Task
from webapp.models.thresholds import CaseThreshold
from webapp.timeutil import utcnow

# What each recorded action on a case's records means, for the case's audit trail.
AUDIT_LABELS = {
    ("view", "case"): _l("bekeek het dossier"),
    ("create", "case"): _l("opende het dossier"),
    ("update", "case"): _l("rondde het dossier af of heropende het"),
    ("assign", "case"): _l("wees het dossier toe"),
    ("audit", "case"): _l("bekeek wie in het dossier keek"),
    ("create", "client"): _l("maakte de cliënt aan"),
    ("update", "client"): _l("wijzigde de gegevens van de cliënt"),
    ("anonymise", "client"): _l("wiste de persoonsgegevens"),
    ("retention", "client"): _l("wiste de persoonsgegevens: de bewaartermijn was voorbij"),
    ("keep", "case"): _l("stelde het wissen 6 maanden uit"),
    ("export", "client"): _l("maakte een overzicht van alle gegevens (inzageverzoek)"),
    ("create", "visit"): _l("registreerde een contact"),
    ("update", "visit"): _l("wijzigde een contact"),
    ("remove", "visit"): _l("verwijderde een contact"),
    ("move", "visit"): _l("verplaatste een gepland contact"),
    ("cancel", "visit"): _l("annuleerde een gepland contact"),
    ("create", "task"): _l("voegde een taak toe"),
    ("update", "task"): _l("vinkte een taak af of zette ze weer open"),
    ("create", "casethreshold"): _l("voegde een drempel toe"),
    ("update", "casethreshold"): _l("wijzigde een drempel"),
    ("create", "enrolment"): _l("schreef in voor een activiteit"),
    ("update", "enrolment"): _l("stopte een inschrijving"),
    ("update", "session"): _l("noteerde de aanwezigheid"),
    ("attendance", "session"): _l("gaf de aanwezigheid door"),
    ("cant_come", "session"): _l("meldde: kan niet komen"),
    ("can_come", "session"): _l("meldde: kan toch komen"),
    ("create", "accesslink"): _l("maakte een link"),
    ("revoke", "accesslink"): _l("trok een link in"),
    ("view", "referral"): _l("bekeek de doorverwijzing"),
    ("accept", "referral"): _l("aanvaardde de doorverwijzing"),
    ("create", "referral"): _l("verstuurde de doorverwijzing"),
}
# How a client's corrected fields are named in the audit trail (rectification, never values).
CLIENT_FIELD_LABELS = {
    "first_name": _l("voornaam"),
    "last_name": _l("familienaam"),
    "birth_date": _l("geboortedatum"),
    "phone": _l("telefoon"),
    "email": _l("e-mail"),
    "street": _l("straat"),
    "postcode": _l("postcode"),
    "district": _l("district"),
    "language": _l("taal"),
    "needs_interpreter": _l("tolk nodig"),
    "household_note": _l("gezin"),
    "card_type": _l("kaart"),
    "card_valid_until": _l("kaart geldig tot"),
}
LINK_ACTORS = {
    "client": _l("de cliënt, via de persoonlijke link"),
    "provider": _l("de aanbieder, via de aanwezigheidslink"),
    "referral": _l("de doorverwijzer, via het formulier"),
}


class AuditEvent(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, index=True)
    user_id: Field[int | None]
    link = IntegerField(null=True, index=True)  # AccessLink id, when a link was used
    action = CharField(max_length=30)  # view | create | update | delete | login | …
    object_type = CharField(max_length=30)
    object_id = IntegerField(null=True)
    # Which fields a correction changed: model field names, comma-separated (never their values).
    fields = CharField(max_length=200, null=True)

    class Meta:
        indexes = ((("object_type", "object_id"), False),)

    @classmethod
    def record(
        cls,
        action: str,
        obj: object | None = None,
        user: User | None = None,
        link: int | None = None,
        object_type: str | None = None,
        fields: list[str] | None = None,
    ) -> None:
        """Write one event; the acting user defaults to whoever is logged in."""
        if (
            user is None
            and link is None
            and has_request_context()
            and current_user
            and current_user.is_authenticated
        ):
            user = current_user._get_current_object()
        cls.create(
            user=user,
            link=link,
            action=action,
            object_type=object_type or type(obj).__name__.lower(),
            object_id=getattr(obj, "id", None),
            fields=",".join(fields)[:200] if fields else None,
        )

    @property
    def label(self) -> str:
        return str(AUDIT_LABELS.get((self.action, self.object_type), self.action))

    @classmethod
    def for_case(cls, case: Case, before: int | None = None) -> Select:
        """Who viewed or changed this case, its client and everything hanging from the case
        (visits, thresholds, enrolments, sessions, links, the referral), newest first, with the
        person or the link that did it; with `before`, only what came before that event (so
        that pages hold, however many events arrive meanwhile). One query."""
        enrolments = Enrolment.select(Enrolment.id).where(Enrolment.case == case.id)
        owned = {
            "visit": Visit.select(Visit.id).where(Visit.case == case.id),
            "casethreshold": CaseThreshold.select(CaseThreshold.id).where(
                CaseThreshold.case == case.id
            ),
            "task": Task.select(Task.id).where(Task.case == case.id),
            "enrolment": enrolments,
            "session": Session.select(Session.id).where(Session.enrolment.in_(enrolments)),
            "accesslink": AccessLink.select(AccessLink.id).where(
                (AccessLink.client == case.client_id) | AccessLink.enrolment.in_(enrolments)
            ),
            "referral": Referral.select(Referral.id).where(Referral.case == case.id),
        }
        where = ((cls.object_type == "case") & (cls.object_id == case.id)) | (
            (cls.object_type == "client") & (cls.object_id == case.client_id)
        )
        for object_type, ids in owned.items():
            where |= (cls.object_type == object_type) & cls.object_id.in_(ids)
        if before is not None:
            # Newest first is (at, id) descending: continue below the event `before`.
            mark = cls.alias("mark")
            at = mark.select(mark.at).where(mark.id == before)
            where = where & ((cls.at < at) | ((cls.at == at) & (cls.id < before)))
        return (
            cls.select(cls, User, AccessLink.purpose)
            .join(User, JOIN.LEFT_OUTER)
            .switch(cls)
            .join(AccessLink, JOIN.LEFT_OUTER, on=(cls.link == AccessLink.id), attr="via_link")
            .where(where)
            .order_by(cls.at.desc(), cls.id.desc())
        )

    @property
    def field_labels(self) -> str:
        """The changed fields as a person reads them ("notities, duur"), or ''."""
        labels = VISIT_FIELD_LABELS if self.object_type == "visit" else CLIENT_FIELD_LABELS
        names = (self.fields or "").split(",")
        return ", ".join(str(labels.get(n, n)) for n in names if n)

    @property
    def actor(self) -> str:
        """Who did it: a team member's name, or which link was used."""
        if self.user is not None:  # no query when user_id is None
            return self.user.name
        if self.link is None:
            return str(_l("Vrijbaan zelf"))
        via_link = getattr(self, "via_link", None)
        purpose = via_link.purpose if via_link is not None else ""
        return str(LINK_ACTORS.get(purpose, _l("iemand via een link")))
