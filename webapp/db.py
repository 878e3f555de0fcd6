"""The database: a peewee proxy, the base model, per-request connections, init-db."""

from __future__ import annotations

import io
import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from peewee import DatabaseProxy, Field, Model, SqliteDatabase
from playhouse.db_url import connect, parse
from playhouse.migrate import SchemaMigrator, migrate
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

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


# At most this many connections per app process to PostgreSQL (README, "Connections to the
# database"); they are opened only when requests run at the same time: a sync worker uses one.
POOL_SIZE = 20
POOL_STALE_SECONDS = 300  # a connection this old is closed when handed back, and replaced
POOL_WAIT_SECONDS = 10  # how long a request waits for a free connection before it fails


def open_database(url: str | None, instance_path: str) -> object:
    """A peewee database for DATABASE_URL, or SQLite in the instance folder when there is none.
    Each process keeps a pool of connections that requests take and hand back: opening one
    costs PostgreSQL a few milliseconds, and SQLite its pragmas, its schema and, on the last
    close, a checkpoint of the WAL. VRIJBAAN_DB_POOL_SIZE=0: a connection per request (for
    PostgreSQL behind pgbouncer)."""
    size = int(os.environ.get("VRIJBAAN_DB_POOL_SIZE", POOL_SIZE))
    stale = int(os.environ.get("VRIJBAAN_DB_POOL_STALE_SECONDS", POOL_STALE_SECONDS))
    if not url:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        url = "sqlite:///" + os.path.join(instance_path, "vrijbaan.sqlite")
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite" and size > 0 and "memory" not in url:
        # No limit: a SQLite connection costs the server nothing. One serves one request at a
        # time, but not always on the same thread.
        return PooledSqliteDatabase(
            **parse(url),
            pragmas=SQLITE_PRAGMAS,
            check_same_thread=False,
            max_connections=None,
            stale_timeout=stale,
        )
    if scheme in ("postgres", "postgresql") and size > 0:
        return PooledPostgresqlDatabase(
            **parse(url), max_connections=size, stale_timeout=stale, timeout=POOL_WAIT_SECONDS
        )
    return connect(url, pragmas=SQLITE_PRAGMAS) if scheme == "sqlite" else connect(url)


def _connect() -> None:
    # A before_request hook must return None, or Flask takes its value as the response.
    database.connect(reuse_if_open=True)


def _close(exc: BaseException | None) -> None:
    # With a pool, close() hands the connection back (rolled back if a transaction was left open).
    if not database.is_closed():
        database.close()


def init_app(app: Flask) -> None:
    database.initialize(open_database(app.config.get("DATABASE_URL"), app.instance_path))
    app.before_request(_connect)
    app.teardown_appcontext(_close)
    app.cli.add_command(init_db_command)
    app.cli.add_command(schema_sql_command)


def create_tables() -> list[str]:
    """Create every missing table, column and index and seed the reference rows; never drops
    data. Returns the columns that were added to existing tables."""
    from webapp import models
    from webapp.models.search import create_search_indexes, refresh_all

    with database.connection_context():
        database.create_tables(models.ALL_MODELS, safe=True)
        added = add_missing_columns(models.ALL_MODELS)
        models.move_visit_next_actions()
        models.seed_reference_data()
        with database.atomic():
            refresh_all(models.ALL_MODELS)
        create_search_indexes(database, models.ALL_MODELS)
    return added


def add_missing_columns(all_models: list[type[Model]]) -> list[str]:
    """Add the columns a model gained since its table was created, so that `init-db` brings an
    existing database up to date. Only nullable columns and columns with a constant number or
    yes/no default (a version counter) can be added this way (no table rebuild, no guessed
    values); any other missing column stops init-db with an explanation."""
    migrator = SchemaMigrator.from_database(database.obj)
    added = []
    for model in all_models:
        table = model._meta.table_name
        existing = {column.name for column in database.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name in existing:
                continue
            if field.null:
                migrate(migrator.add_column(table, field.column_name, field))
            elif isinstance(field.default, bool | int):
                _add_column_with_default(table, field)
            else:
                raise click.ClickException(
                    f"{table}.{field.column_name} is missing and cannot be empty: "
                    "add it by hand, or start from a new database."
                )
            added.append(f"{table}.{field.column_name}")
    return added


def _add_column_with_default(table: str, field: Field) -> None:
    """ALTER TABLE … ADD COLUMN … NOT NULL DEFAULT <constant>: both engines fill the existing
    rows in place (peewee's add_column would rebuild the table on SQLite, which with foreign
    keys on is not safe)."""
    ctx = database.obj.get_sql_context()
    column_type = ctx.sql(field.ddl_datatype(ctx)).query()[0]
    default = field.default
    literal = ("TRUE" if default else "FALSE") if isinstance(default, bool) else str(int(default))
    database.execute_sql(
        f'ALTER TABLE "{table}" ADD COLUMN "{field.column_name}" {column_type} '
        f"NOT NULL DEFAULT {literal}"
    )


def schema_sql() -> str:
    """The SQLite DDL of the models, as kept in schema.sql."""
    from webapp import models

    db = SqliteDatabase(":memory:")
    out = io.StringIO()
    out.write("-- Generated from webapp/models by `flask --app wsgi schema-sql`; do not edit.\n")
    with db.bind_ctx(models.ALL_MODELS):
        for model in models.ALL_MODELS:
            ctx = model._schema._create_table(safe=True)
            sql, _ = ctx.query()
            out.write(sql + ";\n")
            for index in model._schema._create_indexes(safe=True):
                sql, _ = index.query()
                out.write(sql + ";\n")
    return out.getvalue()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the tables (safe on a database that already holds data)."""
    for column in create_tables():
        click.echo(f"Column added: {column}")
    click.echo(f"Database ready: {describe(current_app)}")


def describe(app: Flask) -> str:
    url = app.config.get("DATABASE_URL")
    if url:
        return url.split("@")[-1]
    return os.path.join(app.instance_path, "vrijbaan.sqlite")


@click.command("schema-sql")
@with_appcontext
def schema_sql_command() -> None:
    """Print the SQLite DDL of the models (what schema.sql holds)."""
    click.echo(schema_sql(), nl=False)
