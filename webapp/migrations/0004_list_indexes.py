"""Indexes that keep the lists as fast at 100 000 cases as at 1 000 (issue 15).

A mediator's open cases (cases: mediator, status), the team's new to-dos (task: done_at,
created_at), the intake's "handled lately" (referral: handled_at) and a referrer's status list
(referral: organisation, submitted_at). The search indexes (SQLite FTS5 tables with their
triggers, PostgreSQL trigram indexes) follow from the models and are made after every upgrade
(webapp.migrations.bring_derived_data_up_to_date)."""

from __future__ import annotations

from typing import Any

from playhouse.migrate import migrate

from webapp.migrations import indexes_of

INDEXES = [
    ("cases", ("mediator_id", "status")),
    ("task", ("done_at", "created_at")),
    ("referral", ("handled_at",)),
    ("referral", ("organisation_id", "submitted_at")),
]


def up(migrator: Any, database: Any) -> None:
    for table, columns in INDEXES:
        if f"{table}_{'_'.join(columns)}" not in indexes_of(table):
            migrate(migrator.add_index(table, columns))
