"""The cases of a client with their status in one index (issue 15): a search for a common name
finds thousands of clients at 100 000 cases, and checked each one's cases for being open in the
table; now the index answers. It replaces the index on the client alone."""

from __future__ import annotations

from typing import Any

from playhouse.migrate import migrate

from webapp.migrations import indexes_of


def up(migrator: Any, database: Any) -> None:
    if "cases_client_id_status" not in indexes_of("cases"):
        migrate(migrator.add_index("cases", ("client_id", "status")))
    if "cases_client_id" in indexes_of("cases"):
        migrate(migrator.drop_index("cases", "cases_client_id"))
