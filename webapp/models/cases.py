"""Cases (trajecten), the A-to-Z steps they run through, their timeline and recorded visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from flask import abort
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from peewee import (
    JOIN,
    SQL,
    BooleanField,
    CharField,
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
    Rows,
    among,
    create_row_trigger,
    database,
    likely,
    tuples_of,
    without_index,
)
from webapp.models.people import Client, User
from webapp.models.search import SearchIndexed, matches_all, search_words
from webapp.models.security import SecurityEvent, without_second_factor
from webapp.timeutil import utcnow

CASE_STATUSES = {"open": _l("lopend"), "closed": _l("afgerond")}
CASE_SOURCES = {
    "doorverwijzing": _l("doorverwijzing"),
    "permanentie": _l("permanentie"),
    "zelf": _l("zelf aangemeld"),
}
DOMAINS = {"sport": _l("sport"), "cultuur": _l("cultuur"), "jeugd": _l("jeugd")}
OUTCOMES = {
    "independent": _l("neemt zelfstandig deel"),
    "stopped": _l("gestopt"),
    "referred": _l("doorverwezen"),
    "unreachable": _l("onbereikbaar"),
}
STOP_REASONS = {
    "cost": _l("kostprijs"),
    "health": _l("gezondheid"),
    "moved": _l("verhuisd"),
    "expectations": _l("niet wat verwacht"),
    "group": _l("de groep"),
    "schedule": _l("uurrooster"),
    "other": _l("andere reden"),
}
CONTACT_TYPES = {
    "huisbezoek": _l("huisbezoek"),
    "permanentie": _l("permanentie"),
    "doorverwijzer": _l("afspraak bij doorverwijzer"),
    "aanbieder": _l("afspraak bij aanbieder"),
    "telefonisch": _l("telefonisch"),
    "bericht": _l("bericht (sms / WhatsApp)"),
    "begeleiding": _l("begeleiding naar activiteit"),
    "groepsactiviteit": _l("groepsactiviteit"),
    "loket": _l("vrijetijdsloket / infomarkt"),
    "casusoverleg": _l("casusoverleg met doorverwijzer"),
    "administratie": _l("administratie zonder cliënt"),
}
# What each kind of CaseEvent says on the timeline (detail adds the specifics).
EVENT_LABELS = {
    "opened": _l("Dossier geopend"),
    "step_done": _l("Stap gedaan"),
    "step_skipped": _l("Stap overgeslagen"),
    "step_undone": _l("Stap terug open"),
    "step_auto": _l("Stap automatisch gedaan"),
    "visit": _l("Contact"),
    "visit_planned": _l("Contact gepland"),
    "action_done": _l("Taak gedaan"),  # before to-dos were rows of their own
    "task_done": _l("Taak gedaan"),
    "task_reopened": _l("Taak weer open"),
    "task_added": _l("Taak toegevoegd"),
    "client_updated": _l("Gegevens aangepast"),
    "assigned": _l("Toegewezen"),
    "closed": _l("Dossier afgerond"),
    "reopened": _l("Dossier heropend"),
    "enrolled": _l("Ingeschreven"),
    "enrolment_stopped": _l("Inschrijving gestopt"),
    "attendance_present": _l("Aanwezig"),
    "attendance_absent": _l("Niet aanwezig"),
    "cant_come": _l("Kan niet komen"),
    "can_come_again": _l("Kan toch komen"),
    "link_created": _l("Persoonlijke link gemaakt"),
    "provider_link_created": _l("Aanwezigheidslink gemaakt"),
    "link_revoked": _l("Link ingetrokken"),
    "referral_accepted": _l("Doorverwijzing aanvaard"),
    "threshold_added": _l("Drempel genoteerd"),
    "threshold_updated": _l("Drempel aangepast"),
    "visit_corrected": _l("Contact aangepast"),
    "visit_removed": _l("Contact verwijderd"),
    "visit_moved": _l("Afspraak verplaatst"),
    "visit_cancelled": _l("Afspraak geannuleerd"),
    "step_kept": _l("Stap blijft gedaan"),
    "message_sent": _l("Bericht verstuurd"),
    "message_failed": _l("Bericht mislukt"),
    "message_not_sent": _l("Bericht niet verstuurd"),
    "messages_consent": _l("Toestemming voor berichten"),
    "messages_stopped": _l("Geen berichten meer"),
}
# Why a recorded contact was removed, and why a planned one was cancelled (stored as the key).
REMOVE_REASONS = {
    "duplicate": _l("dubbel"),
    "wrong_case": _l("verkeerd dossier"),
    "mistake": _l("fout ingevoerd"),
    "other": _l("andere reden"),
}
CANCEL_REASONS = {
    "client": _l("cliënt kan niet"),
    "mediator": _l("bemiddelaar kan niet"),
    "not_needed": _l("niet meer nodig"),
    "other": _l("andere reden"),
}
# How a visit's fields are named in the timeline and the audit trail ("wat werd aangepast").
VISIT_FIELD_LABELS = {
    "contact_type": _l("soort contact"),
    "occurred_at": _l("wanneer"),
    "duration_minutes": _l("duur"),
    "place": _l("plaats"),
    "contact_made": _l("contact gehad"),
    "planned": _l("gepland"),
    "notes": _l("notities"),
    "next_action": _l("volgende stap"),
    "next_action_due": _l("tegen wanneer"),
    "removed_reason": _l("reden"),
}
# The author corrects a recorded contact this long after recording it; a coordinator always.
CORRECTION_WINDOW = dt.timedelta(days=14)
STEP_STATUSES = {"todo": _l("te doen"), "done": _l("gedaan"), "skipped": _l("overgeslagen")}


def N_(message: str) -> str:
    """Marks a default label for the catalog (pybabel extracts N_ by default) and returns it
    untranslated: the database keeps the Dutch, display_label translates it when shown."""
    return message


def shown_label(label: str, default: str | None) -> str:
    """A stored label as a person reads it: translated while it is still the default (the Dutch
    msgid), as typed once a coordinator renamed it. Never queries."""
    if default is not None and label == default:
        return gettext(default)
    return label


TEAM_LANGUAGE = "nl"


def in_team_language():  # type: ignore[no-untyped-def]
    """A block whose text is stored for colleagues (timeline details, notes): it is written in
    the team's language, whatever the language of the screen it came from."""
    return force_locale(TEAM_LANGUAGE)


DEFAULT_STEPS = [
    (1, "aanmelding", N_("Aanmelding"), "case_opened"),
    (2, "kennismaking", N_("Kennismaking"), "first_contact"),
    (3, "vraagverheldering", N_("Vraagverheldering"), ""),
    (4, "rechten", N_("Rechten & budget"), ""),
    (5, "zoeken", N_("Zoeken & kiezen"), ""),
    (6, "inschrijving", N_("Inschrijving"), "enrolled"),
    (7, "eerste_keer", N_("Eerste keer samen"), "attended"),
    (8, "opvolging", N_("Opvolging"), ""),
    (9, "afronding", N_("Afronding"), "case_closed"),
]
# What completed a step automatically, as the timeline says it ("Stap automatisch gedaan:
# Zoeken & kiezen — door de inschrijving").
STEP_EVENTS = {
    "first_contact": _l("door het eerste contact"),
    "enrolled": _l("door de inschrijving"),
    "attended": _l("door de eerste keer samen"),
    "case_closed": _l("door het afronden"),
}
# The events that prove the steps before theirs are over too.
EVENTS_COMPLETING_EARLIER_STEPS = ("first_contact", "enrolled", "attended")
DEFAULT_STEP_LABELS = {key: label for _position, key, label, _event in DEFAULT_STEPS}


def step_label(key: str | None, label: str | None) -> str | None:
    """The label of a step as shown (see shown_label), from its key and stored label."""
    if label is None:
        return None
    return shown_label(label, DEFAULT_STEP_LABELS.get(key or ""))


def _someone_elses(user: User) -> None:
    """A case (or its visit) exists but is not this user's: for the security log."""
    SecurityEvent.record("case-denied", user)


class Case(BaseModel):
    client = ForeignKeyField(Client, backref="cases", index=False, on_delete="CASCADE")
    client_id: Field[int]
    mediator = ForeignKeyField(User, backref="cases", index=True)
    mediator_id: Field[int]
    last_contact: dt.datetime | None  # of a listed case only (with_last_contacts)
    status = CharField(max_length=10, default="open", index=True)
    source = CharField(max_length=20, default="doorverwijzing")
    question = TextField(default="")
    interests = CharField(max_length=40, default="")  # comma-separated DOMAINS keys
    opened_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField(null=True)
    outcome = CharField(max_length=20, default="")
    outcome_reason = CharField(max_length=20, default="")
    outcome_note = TextField(default="")
    current_position = IntegerField(default=1, index=True)  # derived from the steps, kept for lists
    updated_at = DateTimeField(default=utcnow, index=True)
    version = IntegerField(default=1)
    # Since when the person waits for a first contact: the day their accepted referral was
    # sent, until a contact reaches them (then empty). Kept by the database's triggers
    # (models/referrals.py, WAITING_SINCE), whatever writes the contacts and referrals.
    waiting_since = DateTimeField(null=True)

    class Meta:
        table_name = "cases"
        # A mediator's open cases (caseload, Vandaag, to-dos): a few dozen of the hundreds a
        # mediator gathers over the years. The intake's late referrals: the open cases still
        # before the first contact, not the closed ones that stopped there. A search's matching
        # clients' open cases: thousands of clients match a common name at 100 000 cases, and
        # each one's cases are found and known open or closed in this index alone.
        indexes = (
            (("mediator", "status"), False),
            (("status", "current_position"), False),
            (("client", "status"), False),
            (("status", "waiting_since"), False),
        )

    @property
    def interest_list(self) -> list[str]:
        return [i for i in self.interests.split(",") if i]

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @classmethod
    def visible_to(cls, user: User):  # type: ignore[no-untyped-def]
        """The cases a user may see: their own, or all of them for a coordinator."""
        query = cls.select()
        if not user.is_coordinator:
            query = query.where(cls.mediator == user)
        return query

    @classmethod
    def get_for(cls, user: User, case_id: int) -> Case:
        """One case with its client and mediator, or 404 when the user may not see it."""
        if user.is_coordinator:
            case = _any_case.first(case_id)
        else:
            case = _own_case.first(case_id, user.id)
        if case is None:
            if cls.select().where(cls.id == case_id).exists():
                _someone_elses(user)
            abort(404)
        return case

    @classmethod
    def get_open_for(cls, user: User, case_id: int) -> Case:
        """A case the user may add to: 404 when not theirs, 409 with the reason when closed
        (hidden buttons are not enough: an old tab or the offline queue still posts)."""
        case = cls.get_for(user, case_id)
        if not case.is_open:
            abort(409, description=gettext("Dit dossier is afgerond. Heropen het eerst."))
        return case

    def steps(self) -> Rows[CaseStep]:
        """The case's steps in order, each with its definition and who changed it last (one
        query, read when first used: see db.together)."""
        return _steps_of_case.rows(self.id)

    def refresh_position(self) -> None:
        """Store the position of the current step: the first that is neither done nor skipped."""
        current = (
            StepDefinition.select(fn.MIN(StepDefinition.position))
            .join(CaseStep)
            .where(CaseStep.case == self, CaseStep.status == "todo")
            .scalar()
        )
        total = StepDefinition.select().count()
        self.current_position = current or total
        Case.update(current_position=self.current_position, updated_at=utcnow()).where(
            Case.id == self.id
        ).execute()

    def complete_step_by_event(self, event: str, by: User | None) -> CaseStep | None:
        """Mark the step completed by this event as done, once, with the steps before it that
        are still open (an enrolment means the choosing is over); steps done or skipped by hand
        stay as they were. Each lands on the timeline as done by this event."""
        steps = list(
            CaseStep.select(CaseStep, StepDefinition)
            .join(StepDefinition)
            .where(
                CaseStep.case == self,
                CaseStep.status == "todo",
                StepDefinition.position
                <= StepDefinition.select(fn.MIN(StepDefinition.position)).where(
                    StepDefinition.completed_by == event
                ),
            )
            .order_by(StepDefinition.position)
        )
        if not steps or steps[-1].step.completed_by != event:
            return None  # the event's own step was done or skipped already: nothing to add
        # Closing a case early does not mean the steps it never reached were done.
        earlier = steps[:-1] if event in EVENTS_COMPLETING_EARLIER_STEPS else []
        with in_team_language():
            cause = str(STEP_EVENTS.get(event, ""))
        for step in [*earlier, steps[-1]]:
            step.set_status("done", by, note="", automatic=True, detail=cause)
        return steps[-1]

    def recheck_first_contact(self, by: User, because: str) -> None:
        """After a contact was removed or corrected: when no contact that took place remains and
        the step it completed ('Kennismaking') was done automatically, the timeline says so. The
        step goes back to do, unless a later step is already done: then it stays done, with a
        note (the tracker never goes back behind what was really done). Done by hand: as it was."""
        took_place = Visit.select().where(
            Visit.case == self,
            Visit.planned == False,  # noqa: E712
            Visit.contact_made == True,  # noqa: E712
            Visit.kept(),
        )
        if took_place.exists():
            return
        step = (
            CaseStep.select(CaseStep, StepDefinition)
            .join(StepDefinition)
            .where(
                CaseStep.case == self,
                StepDefinition.completed_by == "first_contact",
                CaseStep.status == "done",
            )
            .first()
        )
        if step is None:
            return
        how = (
            CaseEvent.select(CaseEvent.kind)
            .where(CaseEvent.case == self, CaseEvent.step == step.step_id)
            .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
            .scalar()
        )
        if how != "step_auto":
            return
        later_done = (
            CaseStep.select()
            .join(StepDefinition)
            .where(
                CaseStep.case == self,
                StepDefinition.position > step.step.position,
                CaseStep.status == "done",
            )
            .exists()
        )
        if later_done:
            with in_team_language():
                detail = gettext("%(because)s Latere stappen zijn al gezet.", because=because)
            CaseEvent.create(
                case=self, actor=by, kind="step_kept", step=step.step_id, detail=detail[:500]
            )
            return
        step.set_status("todo", by, note=because[:500])
        self.refresh_position()

    def touch(self) -> None:
        Case.update(updated_at=utcnow()).where(Case.id == self.id).execute()

    def bump_version(self, expected: int) -> bool:
        """Optimistic lock: raise the version only if nobody changed the case since `expected`."""
        changed = (
            Case.update(version=Case.version + 1, updated_at=utcnow())
            .where(Case.id == self.id, Case.version == expected)
            .execute()
        )
        if changed:
            self.version = expected + 1
        return bool(changed)

    @classmethod
    def open_for(cls, client: Client, mediator: User, by: User, **fields: object) -> Case:
        """Open a case with all steps to do, 'Aanmelding' done, and a first timeline entry."""
        with database.atomic():
            case = cls.create(client=client, mediator=mediator, **fields)
            CaseStep.insert_many(
                [{"case": case.id, "step": d.id} for d in StepDefinition.select()]
            ).execute()
            CaseEvent.create(case=case, actor=by, kind="opened")
            case.complete_step_by_event("case_opened", by)
            case.refresh_position()
        return case

    @classmethod
    def caseload(
        cls,
        user: User,
        *,
        q: str = "",
        position: int | None = None,
        status: str = "open",
        mediator_id: int | None = None,
        referred: Select | None = None,
    ) -> ModelSelect[Case]:
        """Cases for the caseload list, each with its client, mediator and current step, in
        one query: only the columns the list shows (a team search sorts every match, and each
        row is a model object to build). `referred`: a query of case ids the search also finds
        (Referral.cases_with_reference(q)). The time of each listed case's last contact comes
        after, for the page only (with_last_contacts)."""
        query = (
            cls.visible_to(user)
            .select(
                cls.id,
                cls.client,
                cls.mediator,
                cls.status,
                cls.outcome,
                cls.current_position,
                Client.id,
                Client.first_name,
                Client.last_name,
                Client.district,
                User.id,
                User.name,
                StepDefinition.id,
                StepDefinition.key,
                StepDefinition.label,
            )
            .join(Client)
            .switch(cls)
            .join(User)
            .switch(cls)
            .join(
                StepDefinition,
                JOIN.LEFT_OUTER,
                on=(StepDefinition.position == cls.current_position),
                attr="step",
            )
            # The client's id before the case's: the name index (last, first, id) then gives
            # the order, so that the team's list reads a page of names, not every open case.
            .order_by(Client.last_name, Client.first_name, Client.id, cls.id)
        )
        team = mediator_id is None and user.is_coordinator
        if status in CASE_STATUSES:
            condition = cls.status == status
            if team:
                # "Most cases match" (a hint, not a filter): SQLite then walks the clients in
                # name order and stops at the page, instead of sorting every open case.
                condition = likely(condition)
            query = query.where(condition)
        if position:
            query = query.where(cls.current_position == position)
        if mediator_id:
            query = query.where(cls.mediator == mediator_id)
        # One mediator's cases are a few dozen (a few hundred with the closed ones): the words
        # are looked for among them; the team's cases through a trigram index: its open
        # cases' own (a few thousand), or every client's for the closed ones.
        condition = _matches(q, referred, indexed=team, open_only=team and status == "open")
        if condition is not None:
            query = query.where(condition)
            if team:
                # The matches come from the trigram index and are sorted; walking every name
                # in order until a rare one turns up (PostgreSQL's choice) reads the table.
                query = query.order_by(
                    without_index(Client.last_name), Client.first_name, Client.id, cls.id
                )
        return query

    @classmethod
    def with_last_contacts(cls, cases: list[Case]) -> list[Case]:
        """The cases, each with the time of its last contact that took place (`last_contact`),
        in one query for the page. Not a column of the list's own query: SQLite works out
        every column of every match before it sorts them and cuts the page, and a team
        search sorts hundreds; here each listed case reads its newest visit, along the
        (case, occurred_at) index, however many cases matched."""
        ids = [case.id for case in cases]
        newest = dict(
            tuples_of(cls.select(cls.id, cls.last_contact_of()).where(cls.id.in_(ids)))
            if ids
            else []
        )
        for case in cases:
            case.last_contact = newest.get(case.id)
        return cases

    @classmethod
    def last_contact_of(cls):  # type: ignore[no-untyped-def]
        """The time of the case's last contact that took place (not planned, not removed), as a
        correlated subquery: the newest of its visits, read backwards along (case, occurred_at)."""
        newest = (
            Visit.select(Visit.occurred_at)
            .where(Visit.case == cls.id, Visit.planned == False, Visit.kept())  # noqa: E712
            .order_by(Visit.occurred_at.desc())
            .limit(1)
        )
        # COALESCE(…, NULL) changes nothing but lets the value come back as a datetime.
        return fn.COALESCE(newest, None).python_value(Visit.occurred_at.python_value)

    def close(self, outcome: str, reason: str, note: str, by: User) -> None:
        """Close the case with its outcome: 'Afronding' done, on the timeline."""
        with database.atomic():
            self.status, self.closed_at = "closed", utcnow()
            self.outcome, self.outcome_reason, self.outcome_note = outcome, reason, note
            Case.update(
                status="closed",
                closed_at=self.closed_at,
                outcome=outcome,
                outcome_reason=reason if outcome == "stopped" else "",
                outcome_note=note,
            ).where(Case.id == self.id).execute()
            with in_team_language():
                detail = str(OUTCOMES.get(outcome, outcome))
                if outcome == "stopped" and reason:
                    detail += f": {STOP_REASONS.get(reason, reason)}"
            CaseEvent.create(case=self, actor=by, kind="closed", detail=detail[:500])
            self.complete_step_by_event("case_closed", by)
            self.refresh_position()

    def reopen(self, by: User) -> None:
        """Open a closed case again, with 'Afronding' back to do."""
        with database.atomic():
            self.status, self.closed_at = "open", None
            Case.update(status="open", closed_at=None, outcome="", outcome_reason="").where(
                Case.id == self.id
            ).execute()
            CaseEvent.create(case=self, actor=by, kind="reopened")
            closing = (
                CaseStep.select(CaseStep, StepDefinition)
                .join(StepDefinition)
                .where(
                    CaseStep.case == self,
                    StepDefinition.completed_by == "case_closed",
                    CaseStep.status != "todo",
                )
            )
            for step in closing:
                step.set_status("todo", by, note="")
            self.refresh_position()

    def assign_to(self, mediator: User, by: User) -> None:
        """Hand the case to another mediator, on the timeline."""
        with database.atomic():
            self.mediator = mediator
            Case.update(mediator=mediator).where(Case.id == self.id).execute()
            CaseEvent.create(case=self, actor=by, kind="assigned", detail=mediator.name[:500])


def _matches(q: str, referred: Select | None, indexed: bool = True, open_only: bool = False):  # type: ignore[no-untyped-def]
    """A caseload search: every word in the client's folded name, district, e-mail or phone
    (see models/search.py), or one of the `referred` cases (found by their referral's
    reference, which the referrals module knows: it builds on cases). `indexed`: through the
    search index, or by reading the rows the other conditions leave; `open_only`: through the
    open cases' index (OpenCaseSearch), for a search among open cases only."""
    if open_only:
        found = OpenCaseSearch.cases_matching(q)
        condition = None if found is None else among(Case.id, found)
    else:
        condition = matches_all(Client, search_words(q), indexed)
    if condition is not None and referred is not None:
        condition = condition | Case.id.in_(referred)
    return condition


class OpenCaseSearch(SearchIndexed, BaseModel):
    """The search text of each open case: its client's (name, district, e-mail, phone),
    copied by the database's triggers while the case is open, and gone when it closes. The
    team's search reads this table's trigram index: it holds the team's open cases, a few
    thousand however many years of closed ones the clients' index holds (issue 15)."""

    case = ForeignKeyField(Case, primary_key=True, on_delete="CASCADE")
    case_id: Field[int]
    search_text = TextField(default="")

    class Meta:
        table_name = "open_case_search"

    @classmethod
    def cases_matching(cls, q: str) -> Select | None:
        """The ids of the open cases whose client matches every word of q; None without words."""
        condition = matches_all(cls, search_words(q))
        return None if condition is None else cls.select(cls.case_id).where(condition)


# A case's row in open_case_search, as it should be: its client's text while it is open.
OPEN_CASE_SEARCH = (
    "DELETE FROM open_case_search WHERE case_id = {row}.id; "
    "INSERT INTO open_case_search (case_id, search_text) "
    "SELECT c.id, COALESCE(cl.search_text, '') FROM cases c JOIN client cl ON cl.id = c.client_id "
    "WHERE c.id = {row}.id AND c.status = 'open';"
)
# A client's new search text, in the rows of their open cases.
OPEN_CASE_CLIENT = (
    "UPDATE open_case_search SET search_text = COALESCE({row}.search_text, '') "
    "WHERE case_id IN (SELECT id FROM cases WHERE client_id = {row}.id AND status = 'open');"
)


def create_open_case_search_triggers(db: Any) -> None:
    """Triggers that keep open_case_search as cases open, close, move to another client, and as
    clients' search texts change, however they change (forms, erasure, scripts); idempotent."""
    with db.atomic():
        create_row_trigger(
            db,
            "trg_open_case_search_cases",
            "cases",
            ("status", "client_id"),
            lambda _event, row: OPEN_CASE_SEARCH.format(row=row),
            # A case reopened while its client is renamed: each must see the other change.
            one_at_a_time=("open_case_search", "client_id"),
        )
        create_row_trigger(
            db,
            "trg_open_case_search_client",
            "client",
            ("search_text",),
            lambda _event, row: OPEN_CASE_CLIENT.format(row=row),
            one_at_a_time=("open_case_search", "id"),
        )


def resync_open_case_search(db: Any) -> int:
    """Make open_case_search hold exactly the open cases with their clients' texts, whatever
    wrote the rows before its triggers existed (after every init-db and upgrade; idempotent).
    Returns the rows it changed."""
    gone = (
        "DELETE FROM open_case_search WHERE NOT EXISTS (SELECT 1 FROM cases c "
        "WHERE c.id = open_case_search.case_id AND c.status = 'open')"
    )
    missing = (
        "INSERT INTO open_case_search (case_id, search_text) "
        "SELECT c.id, COALESCE(cl.search_text, '') FROM cases c JOIN client cl "
        "ON cl.id = c.client_id WHERE c.status = 'open' AND NOT EXISTS "
        "(SELECT 1 FROM open_case_search s WHERE s.case_id = c.id)"
    )
    text = (
        "(SELECT COALESCE(cl.search_text, '') FROM cases c JOIN client cl "
        "ON cl.id = c.client_id WHERE c.id = open_case_search.case_id)"
    )
    stale = f"UPDATE open_case_search SET search_text = {text} WHERE search_text <> {text}"  # noqa: S608
    statements = (gone, missing, stale)
    changed = 0
    with db.atomic():
        for statement in statements:
            changed += db.execute_sql(statement).rowcount
    return changed


class StepDefinition(BaseModel):
    position = IntegerField(unique=True)
    key = CharField(max_length=30, unique=True)
    label = CharField(max_length=60)
    completed_by = CharField(max_length=30, default="")  # the event that completes it

    @property
    def display_label(self) -> str | None:
        """The label as shown: the default translated, a renamed label as typed."""
        return step_label(self.key, self.label)

    @classmethod
    def ordered(cls):  # type: ignore[no-untyped-def]
        return cls.select().order_by(cls.position)


class CaseStep(BaseModel):
    case = ForeignKeyField(Case, backref="case_steps", on_delete="CASCADE")
    case_id: Field[int]
    step = ForeignKeyField(StepDefinition, index=True)
    step_id: Field[int]
    status = CharField(max_length=10, default="todo")
    changed_at = DateTimeField(null=True)
    changed_by = ForeignKeyField(User, null=True, index=True)
    changed_by_id: Field[int | None]
    note = CharField(max_length=500, default="")

    class Meta:
        indexes = ((("case", "step"), True), (("case", "status"), False))

    def set_status(
        self, status: str, by: User | None, note: str, automatic: bool = False, detail: str = ""
    ) -> None:
        """Change this step and record it on the case's timeline (`detail`: what did it)."""
        previous = self.status
        self.status, self.changed_at, self.changed_by, self.note = status, utcnow(), by, note
        self.save(only=[CaseStep.status, CaseStep.changed_at, CaseStep.changed_by, CaseStep.note])
        kind = "step_auto" if automatic else f"step_{status}"
        if status == "todo":
            kind = "step_undone"
        CaseEvent.create(
            case=self.case_id,
            actor=by,
            kind=kind,
            step=self.step_id,
            detail=note or detail or previous,
        )


class Visit(BaseModel):
    """A contact with (or about) the client, recorded afterwards or planned ahead."""

    case = ForeignKeyField(Case, backref="visits", on_delete="CASCADE")
    case_id: Field[int]
    mediator = ForeignKeyField(User, index=False)  # (mediator, occurred_at) below
    mediator_id: Field[int]
    contact_type = CharField(max_length=20)
    occurred_at = DateTimeField(index=True)
    duration_minutes = IntegerField(default=0)
    place = CharField(max_length=120, default="")
    contact_made = BooleanField(default=True)
    # No index on `planned`: half the rows match, and SQLite would pick it over (case, occurred_at).
    planned = BooleanField(default=False)
    notes = TextField(default="")
    idempotency_key = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    # Optimistic lock for corrections; rows from before it have NULL, read as 1.
    version = IntegerField(null=True, default=1)
    recorded_at = DateTimeField(null=True)  # when it was recorded (NULL before: see `recorded`)
    # A removed contact (or cancelled plan) stays as a row, so that its idempotency key still
    # answers "already saved" to a phone's offline queue, and its audit rows keep their object;
    # it counts nowhere. No index: nearly every row is NULL, and each query filters on more.
    removed_at = DateTimeField(null=True)
    removed_reason = CharField(max_length=20, null=True)  # a REMOVE_ or CANCEL_REASONS key
    remind_client = BooleanField(null=True, default=False)  # a planned one: SMS the day before

    class Meta:
        indexes = ((("case", "occurred_at"), False), (("mediator", "occurred_at"), False))

    @classmethod
    def by_key(cls, key: str) -> Visit | None:
        return cls.get_or_none(cls.idempotency_key == key)

    @classmethod
    def kept(cls):  # type: ignore[no-untyped-def]
        """The condition for visits that were not removed (or cancelled)."""
        return cls.removed_at.is_null()

    @property
    def contact_label(self) -> str:
        return CONTACT_TYPES.get(self.contact_type, self.contact_type)

    @property
    def recorded(self) -> dt.datetime:
        """When the contact was recorded (for a planned one: registered)."""
        return self.recorded_at or self.created_at

    def may_correct(self, user: User, case: Case | None = None) -> bool:
        """A recorded contact: its author for CORRECTION_WINDOW while the case is open, a
        coordinator always. (Planned ones are moved, cancelled or registered instead.)"""
        if self.planned or self.removed_at is not None:
            return False
        if user.is_coordinator:
            return True
        case = case or self.case
        return (
            self.mediator_id == user.id
            and case.is_open
            and utcnow() - self.recorded <= CORRECTION_WINDOW
        )

    @classmethod
    def planned_for(cls, case: Case) -> Rows[Visit]:
        """The planned contacts of a case, earliest first (one query, read when first used)."""
        return _planned_of_case.rows(case.id)

    @classmethod
    def most_used_types(cls, user: User, days: int = 90, n: int = 4) -> list[str]:
        """The contact types this user recorded most among their last USUAL_TYPES_FROM
        contacts of the last `days` days (one query, which reads at most that many along the
        (mediator, time) index: a mediator with thousands of cases has tens of thousands of
        contacts in 90 days)."""
        now = utcnow()
        recent = (
            cls.select(cls.contact_type)
            .where(
                cls.mediator == user,
                # Up to now: the index walks back from here, past no planned contact to come.
                cls.occurred_at.between(now - dt.timedelta(days=days), now),
                cls.planned == False,  # noqa: E712
                cls.kept(),
            )
            .order_by(cls.occurred_at.desc())
            .limit(USUAL_TYPES_FROM)
            .alias("recent")
        )
        count = fn.COUNT(SQL("*"))
        rows = (
            Select([recent], [recent.c.contact_type])
            .group_by(recent.c.contact_type)
            .order_by(count.desc(), recent.c.contact_type)
            .limit(n)
            .bind(database)
            .tuples()
        )
        return [row[0] for row in cast("Iterable[tuple[str]]", rows)]

    @classmethod
    def get_for(cls, user: User, visit_id: int) -> Visit:
        """One visit with its case and client, or 404 when the user may not see that case."""
        visit = (
            cls.select(cls, Case, Client)
            .join(Case)
            .join(Client)
            .where(cls.id == visit_id, Case.id.in_(Case.visible_to(user).select(Case.id)))
            .first()
        )
        if visit is None:
            if cls.select().where(cls.id == visit_id).exists():
                _someone_elses(user)
            abort(404)
        return visit

    @classmethod
    def _on_open_cases(cls, mediator: User | None):  # type: ignore[no-untyped-def]
        """Visits with their case, client and the case's mediator, on open cases of `mediator`
        (of everyone when None)."""
        query = (
            cls.select(cls, Case, Client, User)
            .join(Case)
            .join(Client)
            .switch(Case)
            .join(User)
            .where(Case.status == "open", cls.kept())
        )
        return query if mediator is None else query.where(Case.mediator == mediator)

    @classmethod
    def planned_between(  # type: ignore[no-untyped-def]
        cls, mediator: User | None, start: dt.datetime, end: dt.datetime, limit: int = 40
    ):
        """Planned contacts in [start, end) on open cases, earliest first (one query)."""
        return (
            cls._on_open_cases(mediator)
            .where(cls.planned == True, cls.occurred_at >= start, cls.occurred_at < end)  # noqa: E712
            .order_by(cls.occurred_at, cls.id)
            .limit(limit)
        )


class CaseEvent(BaseModel):
    """One line on a case's timeline: a step change, a visit, an enrolment, an attendance …"""

    case = ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    case_id: Field[int]
    at = DateTimeField(default=utcnow)
    actor = ForeignKeyField(User, null=True, index=True)  # none: a client, provider or referrer
    actor_id: Field[int | None]
    kind = CharField(max_length=30)
    step = ForeignKeyField(StepDefinition, null=True, index=True)
    step_id: Field[int | None]
    visit = ForeignKeyField(Visit, null=True, index=True, on_delete="CASCADE")
    visit_id: Field[int | None]
    detail = CharField(max_length=500, default="")
    # Who outside the team did it, when that is not the client: a provider's name.
    outside_actor = CharField(max_length=120, null=True)

    class Meta:
        indexes = ((("case", "at"), False),)

    @property
    def actor_label(self) -> str:
        """Who did it, for the timeline: a team member, the provider who confirmed, the client."""
        if self.actor is not None:  # no query when actor_id is None
            return str(self.actor.name)
        if self.outside_actor:
            return str(_l("bevestigd door %(who)s", who=self.outside_actor))
        if self.kind in ("cant_come", "can_come_again"):
            return str(_l("de cliënt"))
        return str(_l("cliënt of partner"))

    @classmethod
    def timeline(cls, case: Case) -> Rows[CaseEvent]:
        """The newest TIMELINE_SHOWN events of a case with their actor, step and visit (one
        query, read when first used)."""
        return _timeline_of_case.rows(case.id, TIMELINE_SHOWN)

    @classmethod
    def visits_on_timeline(cls, case_id: int) -> Any:
        """The ids of the visits among the events the timeline shows (a subquery)."""
        return (
            cls.select(cls.visit)
            .where(cls.case == case_id)
            .order_by(cls.at.desc(), cls.id.desc())
            .limit(TIMELINE_SHOWN)
        )


# The visit form offers first the contact types the mediator used most among this many of
# their newest contacts (a few weeks of a mediator's work).
USUAL_TYPES_FROM = 200

# The case page's timeline shows this many newest events.
TIMELINE_SHOWN = 50

# The Users list and the Assign page show the team this many people at a time ("Meer tonen"):
# a city network has hundreds, and a phone shows a dozen.
TEAM_PAGE_SIZE = 20


def team_page(query: Any, limit: int, districts: bool = False) -> list[User]:
    """The first `limit` people of `query`, each with their number of open cases
    (`open_cases`), counted along the (mediator, status) index; with `districts`, also the two
    districts where most of those clients live (`districts`), which reads each open case's
    client. Two queries, both bounded by the people shown."""
    people = list(query.limit(limit))
    # Each open case's district looked up by its client's key: joined, PostgreSQL would read
    # every client ever known to match the thousand cases of a page (a hash join).
    district_of_case = Client.select(Client.district).where(Client.id == Case.client)
    rows = (
        Case.select(Case.mediator, district_of_case if districts else SQL("''"), fn.COUNT(Case.id))
        .where(Case.mediator.in_([p.id for p in people]), Case.status == "open")
        .group_by(Case.mediator, *([SQL("2")] if districts else []))
        .tuples()
    )
    counts: dict[int, list[tuple[int, str]]] = {}
    for mediator_id, district, n in cast("Iterable[tuple[int, str, int]]", rows):
        counts.setdefault(mediator_id, []).append((-n, district))
    for person in people:
        mine = sorted(counts.get(person.id, []))
        person.open_cases = -sum(n for n, _d in mine)
        person.districts = [d for _n, d in mine if d][:2]
    return people


def team_list(typed: str = "", without_app: bool = False) -> Any:
    """Everyone whose name or e-mail holds `typed`, active first, by name (the Users list);
    with `without_app`, only the active people who have no second factor yet."""
    query = User.select().where(User.named(typed))
    if without_app:
        query = query.where(without_second_factor())
    return query.order_by(User.active.desc(), User.name, User.id)


def team_for_assigning(typed: str = "") -> Any:
    """The active team members a case can go to whose name or e-mail holds `typed`, by name."""
    return User.mediators().where(User.named(typed)).order_by(User.name, User.id)


# --- The case page's queries, prepared (see db.Prepared) -----------------------------------------


def _case_with_people():  # type: ignore[no-untyped-def]
    return Case.select(Case, Client, User).join(Client).switch(Case).join(User)


_any_case = Prepared(lambda case_id: _case_with_people().where(Case.id == case_id).limit(1))
_own_case = Prepared(
    lambda case_id, user_id: (
        _case_with_people().where(Case.id == case_id, Case.mediator == user_id).limit(1)
    )
)
_steps_of_case = Prepared(
    lambda case_id: (
        # Of who changed it, only the name shows: not the whole account.
        CaseStep.select(CaseStep, StepDefinition, User.id, User.name)
        .join(StepDefinition)
        .switch(CaseStep)
        .join(User, JOIN.LEFT_OUTER)
        .where(CaseStep.case == case_id)
        .order_by(StepDefinition.position)
    )
)
_planned_of_case = Prepared(
    lambda case_id: (
        Visit.select()
        .where(Visit.case == case_id, Visit.planned == True, Visit.kept())  # noqa: E712
        .order_by(Visit.occurred_at, Visit.id)
    )
)
_timeline_of_case = Prepared(
    lambda case_id, limit: (
        CaseEvent.select(CaseEvent, User.id, User.name, StepDefinition, Visit)  # actor's name
        .join(User, JOIN.LEFT_OUTER)
        .switch(CaseEvent)
        .join(StepDefinition, JOIN.LEFT_OUTER)
        .switch(CaseEvent)
        .join(Visit, JOIN.LEFT_OUTER)
        .where(CaseEvent.case == case_id)
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(limit)
    )
)
