"""Erasing a client's personal data on request (GDPR, "recht op vergetelheid"), while the
team's anonymous figures keep counting: the person becomes "Anoniem <id>", every free text
about them is emptied, and what reports count (district, year of birth, steps, outcomes,
contact types, threshold categories, attendance) stays."""

from __future__ import annotations

import datetime as dt

from webapp.db import database
from webapp.models.audit import AuditEvent
from webapp.models.cases import Case, CaseEvent, CaseStep, Visit
from webapp.models.links import AccessLink
from webapp.models.offer import Enrolment, Session
from webapp.models.people import ANONYMOUS_FIRST_NAME, Client, User
from webapp.models.referrals import Referral
from webapp.models.tasks import Task
from webapp.models.thresholds import CaseThreshold
from webapp.timeutil import utcnow


def year_only(day: dt.date | None) -> dt.date | None:
    """Mid-year of the same year: age groups stay right within a year, the birthday is gone."""
    return day.replace(month=7, day=1) if day else None


def can_anonymise(client: Client) -> bool:
    """Only when the work is over: every case of the client is closed."""
    return not Case.select().where(Case.client == client.id, Case.status == "open").exists()


def anonymise_client(client: Client, by: User) -> None:
    """Erase the personal data of the client and everything written about them (one transaction)."""
    cases = Case.select(Case.id).where(Case.client == client.id)
    enrolments = Enrolment.select(Enrolment.id).where(Enrolment.case.in_(cases))
    referrals = (Referral.client == client.id) | Referral.case.in_(cases)
    with database.atomic():
        Client.update(
            first_name=ANONYMOUS_FIRST_NAME,
            last_name=str(client.id),
            birth_date=year_only(client.birth_date),
            phone="",
            email="",
            street="",
            postcode="",
            household_note="",
            card_type="",
            card_valid_until=None,
            updated_at=utcnow(),
            version=Client.version + 1,
        ).where(Client.id == client.id).execute()
        Case.update(question="", outcome_note="", version=Case.version + 1).where(
            Case.id.in_(cases)
        ).execute()
        CaseStep.update(note="").where(CaseStep.case.in_(cases)).execute()
        Visit.update(notes="", place="").where(Visit.case.in_(cases)).execute()
        Task.update(text="").where(Task.case.in_(cases)).execute()
        CaseEvent.update(detail="").where(CaseEvent.case.in_(cases)).execute()
        CaseThreshold.update(note="", resolution="").where(CaseThreshold.case.in_(cases)).execute()
        Enrolment.update(stop_note="").where(Enrolment.id.in_(enrolments)).execute()
        Session.update(meeting_point="", attendance_remark="", cant_come_message="").where(
            Session.enrolment.in_(enrolments)
        ).execute()
        Referral.update(
            first_name=ANONYMOUS_FIRST_NAME,
            last_name=str(client.id),
            phone="",
            street="",
            postcode="",
            household="",
            interests="",
            question="",
            decline_reason="",
        ).where(referrals).execute()
        # The birth date keeps its year only, per referral (a person has one or two).
        for referral in Referral.select(Referral.id, Referral.birth_date).where(referrals):
            Referral.update(birth_date=year_only(referral.birth_date)).where(
                Referral.id == referral.id
            ).execute()
        # The links stop working: nobody can open a page about this person any more.
        AccessLink.delete().where(
            (AccessLink.client == client.id) | AccessLink.enrolment.in_(enrolments)
        ).execute()
        AuditEvent.record("anonymise", client, user=by)
