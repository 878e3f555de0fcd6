"""Since when each case waits for a first contact (issue 15): the intake's late referrals are
the open cases waiting longest, read along an index, however many wait. The column is filled
here once; the database's triggers keep it (made after every upgrade)."""

from __future__ import annotations

from typing import Any

from peewee import DateTimeField
from playhouse.migrate import migrate

from webapp.migrations import columns_of, indexes_of

# As WAITING_SINCE in webapp/models/referrals.py was when this migration was made.
FILL = (
    'UPDATE "cases" SET waiting_since = CASE WHEN EXISTS ('
    "SELECT 1 FROM visit v WHERE v.case_id = cases.id AND NOT v.planned AND v.contact_made "
    "AND v.removed_at IS NULL) THEN NULL ELSE ("
    "SELECT MIN(r.submitted_at) FROM referral r WHERE r.case_id = cases.id "
    "AND r.status = 'accepted') END"
)


def up(migrator: Any, database: Any) -> None:
    if "waiting_since" not in columns_of("cases"):
        migrate(migrator.add_column("cases", "waiting_since", DateTimeField(null=True)))
    if "cases_status_waiting_since" not in indexes_of("cases"):
        migrate(migrator.add_index("cases", ("status", "waiting_since")))
    database.execute_sql(FILL)
