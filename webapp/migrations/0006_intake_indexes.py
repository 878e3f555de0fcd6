"""Indexes that keep the intake list as fast at 100 000 cases as at 1 000 (issue 15).

The referrals waiting for a decision, oldest first (referral: status, submitted_at): without it
SQLite walks every referral ever sent in date order, or the whole table, to find the few new
ones. The late referrals' open cases still before the first contact (cases: status,
current_position): without it the closed cases that stopped at those steps are read too."""

from __future__ import annotations

from typing import Any

from playhouse.migrate import migrate

from webapp.migrations import indexes_of

INDEXES = [
    ("referral", ("status", "submitted_at")),
    ("cases", ("status", "current_position")),
]


def up(migrator: Any, database: Any) -> None:
    for table, columns in INDEXES:
        if f"{table}_{'_'.join(columns)}" not in indexes_of(table):
            migrate(migrator.add_index(table, columns))
