"""The clients whose cases are all closed, with when the last one closed (issue 15): "Te
wissen" reads the clients reaching their term along an index instead of grouping every case of
ten years. The table is written out as it was when this migration was made (see 0002); its rows
and its triggers follow every upgrade (bring_derived_data_up_to_date)."""

from __future__ import annotations

from typing import Any

from peewee import DateTimeField, ForeignKeyField, Model

from webapp.db import database as db


class Frozen(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Client(Frozen):
    class Meta:
        table_name = "client"


class ClosedClient(Frozen):
    client = ForeignKeyField(Client, primary_key=True, on_delete="CASCADE")
    closed_at = DateTimeField(index=True)

    class Meta:
        table_name = "closed_client"


def up(migrator: Any, database: Any) -> None:
    database.create_tables([ClosedClient], safe=True)
