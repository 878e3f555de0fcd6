"""The database: a peewee proxy, the base model, per-request connections; no model here (the
schema: webapp/models; init-db and the migrations: webapp/migrations)."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from peewee import AutoField, DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


class BaseModel(Model):
    # The primary key peewee's metaclass adds to every model, declared for mypy. An annotation
    # without a value is no field to peewee (it only collects Field instances); so are the
    # `<name>_id` annotations under each ForeignKeyField in the models.
    id: AutoField[int]

    class Meta:
        database = database
        legacy_table_names = False


def open_database(url: str | None, instance_path: str) -> object:
    """A peewee database for DATABASE_URL, or SQLite in the instance folder when there is none."""
    if url:
        return connect(url, pragmas=SQLITE_PRAGMAS) if url.startswith("sqlite") else connect(url)
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return SqliteDatabase(os.path.join(instance_path, "vrijbaan.sqlite"), pragmas=SQLITE_PRAGMAS)


def _connect() -> None:
    # A before_request hook must return None, or Flask takes its value as the response.
    database.connect(reuse_if_open=True)


def _close(exc: BaseException | None) -> None:
    if not database.is_closed():
        database.close()


def init_app(app: Flask) -> None:
    database.initialize(open_database(app.config.get("DATABASE_URL"), app.instance_path))
    app.before_request(_connect)
    app.teardown_appcontext(_close)
