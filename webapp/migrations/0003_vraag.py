"""The public front door /vraag: walk-in hours, and requests a person sends in themselves.

A request from /vraag is a referral without a referring organisation (source "zelf"), with what
the page asks besides a referral's fields: for whom, age, e-mail, WhatsApp, the best moment to
call. So `referral.organisation_id` may now be empty. The table is written out as it was when
this migration was made (see 0002)."""

from __future__ import annotations

from typing import Any

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    IntegerField,
    Model,
    TimeField,
)
from playhouse.migrate import migrate

from webapp.db import database as db
from webapp.migrations import columns_of
from webapp.timeutil import utcnow


class WalkInHours(Model):
    place = CharField(max_length=100)
    address = CharField(max_length=160)
    weekday = IntegerField()
    starts = TimeField()
    ends = TimeField()
    note = CharField(max_length=200, default="")
    active = BooleanField(default=True, index=True)
    created_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)

    class Meta:
        database = db
        legacy_table_names = False


NEW_COLUMNS: list[tuple[str, Field]] = [
    ("referral", CharField(max_length=20, null=True, column_name="source")),
    ("referral", CharField(max_length=10, null=True, column_name="for_whom")),
    ("referral", IntegerField(null=True, column_name="age")),
    ("referral", CharField(max_length=254, null=True, column_name="email")),
    ("referral", BooleanField(null=True, column_name="whatsapp")),
    ("referral", CharField(max_length=10, null=True, column_name="call_moment")),
]


def up(migrator: Any, database: Any) -> None:
    database.create_tables([WalkInHours], safe=True)
    for table, field in NEW_COLUMNS:
        if field.column_name not in columns_of(table):
            migrate(migrator.add_column(table, field.column_name, field))
    # No table points at referral, so SQLite's copy of the table cascades nowhere.
    not_null = {c.name for c in database.get_columns("referral") if not c.null}
    if "organisation_id" in not_null:
        migrate(migrator.drop_not_null("referral", "organisation_id"))
