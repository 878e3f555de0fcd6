"""Indexes that make each figure of the reports (webapp/reports/figures.py) an index-only count:
a year's figures read the period's entries of a narrow index, never its rows (issue 15)."""

from __future__ import annotations

from webapp.models.cases import Case, Visit
from webapp.models.offer import Session
from webapp.models.thresholds import CaseThreshold

REPORT_INDEXES = [
    # The cases that ran in a period: the open ones (closed_at NULL) and those closed since its
    # start, each a range of this index, with every column the figures count by.
    Case.index(
        Case.closed_at,
        Case.opened_at,
        Case.current_position,
        Case.outcome,
        Case.interests,
        Case.mediator,
        Case.client,
        Case.source,
        Case.id,
        name="cases_report",
    ),
    # Contacts per kind: the recorded (not planned, not removed) ones of the period.
    Visit.index(
        Visit.occurred_at,
        Visit.planned,
        Visit.removed_at,
        Visit.contact_type,
        Visit.duration_minutes,
        name="visit_report",
    ),
    # Thresholds noted in the period, per category and status.
    CaseThreshold.index(
        CaseThreshold.created_at,
        CaseThreshold.category,
        CaseThreshold.status,
        CaseThreshold.signal,
        name="casethreshold_report",
    ),
    # Attendance of the period's sessions (the domain comes from the enrolment's activity).
    Session.index(
        Session.starts_at, Session.enrolment, Session.attendance, name="activity_sessions_report"
    ),
]
for index in REPORT_INDEXES:
    index._model.add_index(index)  # type: ignore[attr-defined]  # peewee's stubs omit it
