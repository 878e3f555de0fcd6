"""The reports' monthly counts (issue 15): the counts, what each row was counted as, and the
queue of rows to count again; the covering indexes of 0005, which the reports no longer read,
go. The marking triggers and the first count of the existing rows follow every upgrade
(bring_derived_data_up_to_date). The tables are written out as they were when this migration
was made (see 0002)."""

from __future__ import annotations

from typing import Any

from peewee import AutoField, CharField, CompositeKey, DateField, IntegerField, Model, TextField

from webapp.db import database as db
from webapp.migrations import indexes_of

OLD_INDEXES = {
    "cases": "cases_report",
    "visit": "visit_report",
    "case_threshold": "casethreshold_report",
    "activity_sessions": "activity_sessions_report",
}


class Frozen(Model):
    class Meta:
        database = db
        legacy_table_names = False


class ReportCount(Frozen):
    figure = CharField(max_length=10)
    day = DateField()
    key = CharField(max_length=120)
    n = IntegerField(default=0)
    minutes = IntegerField(default=0)

    class Meta:
        table_name = "report_count"
        indexes = (
            (("figure", "day", "key"), True),
            (("figure", "day", "key", "n", "minutes"), False),
        )


class ReportCounted(Frozen):
    kind = CharField(max_length=10)
    row_id = IntegerField()
    key = TextField()

    class Meta:
        table_name = "report_counted"
        primary_key = CompositeKey("kind", "row_id")


class ReportDirty(Frozen):
    id = AutoField()
    kind = CharField(max_length=10)
    row_id = IntegerField()

    class Meta:
        table_name = "report_dirty"


def up(migrator: Any, database: Any) -> None:
    database.create_tables([ReportCount, ReportCounted, ReportDirty], safe=True)
    for table, index in OLD_INDEXES.items():
        if index in indexes_of(table):
            database.execute_sql(f'DROP INDEX "{index}"')
