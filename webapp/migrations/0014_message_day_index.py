"""The day's messages by time with their status in one index (issue 15): the coordinator's
messages list counts the day's sent and failed messages, and read each of them to see its
status (1.5 ms for a network's 2 700 messages of a day on SQLite, 0.05 ms for 29). It replaces
the index on the time alone."""

from __future__ import annotations

from typing import Any

from playhouse.migrate import migrate

from webapp.migrations import indexes_of


def up(migrator: Any, database: Any) -> None:
    if "messages_updated_at_status" not in indexes_of("messages"):
        migrate(migrator.add_index("messages", ("updated_at", "status")))
    if "messages_updated_at" in indexes_of("messages"):
        migrate(migrator.drop_index("messages", "messages_updated_at"))
