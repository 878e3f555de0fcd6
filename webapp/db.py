"""The database: a peewee proxy, the base model, per-request connections; no model here (the
schema: webapp/models; init-db and the migrations: webapp/migrations)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from peewee import SQL, DatabaseProxy, Model, NodeList, SqliteDatabase, fn
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def likely(condition: Any) -> Any:
    """The condition, with a hint to SQLite's planner that most rows meet it, so that it does
    not choose the condition's index to read a table (the condition still filters). SQLite's
    statistics count NULL as one value among many distinct ones, and so take `done_at IS NULL`
    for a handful of rows when it is thousands; PostgreSQL's planner knows better."""
    if isinstance(database.obj, SqliteDatabase):
        return fn.likelihood(condition, SQL("0.9"))
    return condition


def without_index(column: Any) -> Any:
    """The column in an ORDER BY that the database must not walk an index for: the rows come
    through a narrower index and are few, so sorting them is cheaper than walking the whole
    table in this order. "+column" on SQLite; "column || ''" (a text column) on PostgreSQL."""
    if isinstance(database.obj, SqliteDatabase):
        return NodeList((SQL("+"), column), glue="")
    return NodeList((column, SQL("|| ''")))


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
