"""The open cases' own search rows (issue 15): the team's search looks among the open cases,
a few thousand, instead of every client of ten years. The table is written out as it was when
this migration was made (see 0002); its rows, its trigram index and its triggers follow every
upgrade (bring_derived_data_up_to_date)."""

from __future__ import annotations

from typing import Any

from peewee import ForeignKeyField, Model, TextField

from webapp.db import database as db


class Frozen(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Cases(Frozen):
    class Meta:
        table_name = "cases"


class OpenCaseSearch(Frozen):
    case = ForeignKeyField(Cases, primary_key=True, on_delete="CASCADE")
    search_text = TextField(default="")

    class Meta:
        table_name = "open_case_search"


def up(migrator: Any, database: Any) -> None:
    database.create_tables([OpenCaseSearch], safe=True)
