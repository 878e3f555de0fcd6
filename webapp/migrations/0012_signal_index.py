"""The signals of a period in one index (issue 15): the signals page counts a year's signals
and shows the first ones without reading every threshold of that year."""

from __future__ import annotations

from typing import Any

from playhouse.migrate import migrate

from webapp.migrations import indexes_of


def up(migrator: Any, database: Any) -> None:
    if "case_threshold_signal_created_at" not in indexes_of("case_threshold"):
        migrate(migrator.add_index("case_threshold", ("signal", "created_at")))
