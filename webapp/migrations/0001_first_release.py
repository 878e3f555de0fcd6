"""The first release (27 November 2026): the oldest schema an upgrade starts from.

Nothing changes here: a database of the first release or later already has these tables. It
stops an upgrade of a database that is not Vrijbaan's (or older than its first release) before
any later migration touches it."""

from __future__ import annotations

from typing import Any

from webapp.migrations import MigrationError

FIRST_RELEASE_TABLES = {
    "users",
    "login_sessions",
    "client",
    "throttle",
    "cases",
    "step_definition",
    "case_step",
    "visit",
    "case_event",
    "threshold_category",
    "case_threshold",
    "provider",
    "activity",
    "enrolment",
    "activity_sessions",
    "referring_organisation",
    "referral",
    "access_link",
    "audit_event",
}


def up(migrator: Any, database: Any) -> None:
    missing = FIRST_RELEASE_TABLES - set(database.get_tables())
    if missing:
        raise MigrationError(
            "This database is not one of Vrijbaan's first release or later (it lacks "
            f"{', '.join(sorted(missing))}): restore a backup, or start from a new database."
        )
