"""Covering indexes that make each figure of the reports an index-only count (issue 15): the
cases that ran in a period, the contacts, the thresholds and the attendance of a period."""

from __future__ import annotations

from typing import Any

from webapp.migrations import indexes_of

INDEXES = {
    "cases_report": (
        "cases",
        (
            "closed_at",
            "opened_at",
            "current_position",
            "outcome",
            "interests",
            "mediator_id",
            "client_id",
            "source",
            "id",
        ),
    ),
    "visit_report": (
        "visit",
        ("occurred_at", "planned", "removed_at", "contact_type", "duration_minutes"),
    ),
    "casethreshold_report": ("case_threshold", ("created_at", "category_id", "status", "signal")),
    "activity_sessions_report": ("activity_sessions", ("starts_at", "enrolment_id", "attendance")),
}


def up(migrator: Any, database: Any) -> None:
    for name, (table, columns) in INDEXES.items():
        # Named as the models name them (playhouse's add_index would name it by its columns).
        if name not in indexes_of(table):
            listed = ", ".join(f'"{column}"' for column in columns)
            database.execute_sql(f'CREATE INDEX "{name}" ON "{table}" ({listed})')
