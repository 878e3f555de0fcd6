"""The schema over time: numbered migrations in this folder, and the commands that build a new
database (`init-db`) or bring an existing one up to date (`db upgrade`, `db status`).

A migration is a file `NNNN_what_changes.py` here with one function
`up(migrator: SchemaMigrator, database: Database) -> None` (playhouse.migrate). `db upgrade`
applies the ones a database lacks, in number order, each in its own transaction, and records each
in the `schema_migration` table. A new database is made from the models at once and every
migration is recorded as applied. How to change the schema: README, "Changing the schema"."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from peewee import CharField, DateTimeField, Field
from playhouse.migrate import SchemaMigrator

from webapp import models
from webapp.db import BaseModel, alone, database
from webapp.models.search import create_search_indexes, refresh_all
from webapp.timeutil import utcnow

HERE = Path(__file__).resolve().parent
MIGRATION_NAME = re.compile(r"^\d{4}_[a-z0-9_]+$")
# Held by the transaction of each migration on PostgreSQL (see one_at_a_time).
ADVISORY_LOCK = 7_202_612


class MigrationError(Exception):
    """A database this upgrade cannot start from; the message says what to do."""


class SchemaMigration(BaseModel):
    """One migration applied to this database (the file's name without .py)."""

    name = CharField(max_length=100, unique=True)
    applied_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "schema_migration"


def migration_names() -> list[str]:
    """Every migration in this folder, in the order they apply."""
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if MIGRATION_NAME.match(m.name))


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def applied_names() -> set[str]:
    if not SchemaMigration.table_exists():
        return set()
    return {row.name for row in SchemaMigration.select(SchemaMigration.name)}


def pending_names() -> list[str]:
    done = applied_names()
    return [name for name in migration_names() if name not in done]


def is_empty() -> bool:
    return not database.get_tables()


def create_tables() -> list[str]:
    """init-db: on an empty database, every table and index from the models, with every
    migration recorded as applied. On an existing one, nothing but the derived data below; a
    database with migrations pending is refused with a pointer to `db upgrade`. Returns the
    migrations recorded."""
    with database.connection_context(), one_at_a_time():
        recorded: list[str] = []
        if is_empty():
            database.create_tables([*models.ALL_MODELS, SchemaMigration])
            recorded = migration_names()
            SchemaMigration.insert_many([{"name": name} for name in recorded]).execute()
        else:
            pending = pending_names()
            if pending:
                raise MigrationError(
                    f"This database lacks {len(pending)} migration(s) ({', '.join(pending)}): "
                    "take a backup, then run `flask --app wsgi db upgrade`."
                )
        bring_derived_data_up_to_date()
    return recorded


def upgrade(echo: Callable[[str], None] = lambda _line: None) -> list[str]:
    """Apply every pending migration in order, each in one transaction with its record, then
    bring the derived data up to date and the planner's statistics. Safe to run again, and on
    two servers at once: each transaction first waits for the other's, then skips a migration
    already recorded. Returns the names applied."""
    applied = []
    with database.connection_context():
        if is_empty():
            raise MigrationError("This database is empty: `flask --app wsgi init-db` creates it.")
        with one_at_a_time():
            SchemaMigration.create_table(safe=True)
        migrator = SchemaMigrator.from_database(database.obj)
        for name in pending_names():
            with one_at_a_time():
                if SchemaMigration.select().where(SchemaMigration.name == name).exists():
                    continue  # another server applied it while this one waited
                echo(f"Applying {name}: {first_line(load(name).__doc__)}")
                load(name).up(migrator, database)
                SchemaMigration.create(name=name)
            applied.append(name)
        with one_at_a_time():
            bring_derived_data_up_to_date()
        if applied:
            # The planners' statistics, for the new indexes too: without them SQLite takes an
            # index it knows nothing of for a narrow one (the team's list sorted every open
            # case instead of reading a page of names, until the next ANALYZE).
            echo("Updating the query planner's statistics (ANALYZE)")
            database.execute_sql("ANALYZE")
    return applied


def one_at_a_time() -> AbstractContextManager[None]:
    """A transaction that no other upgrade runs beside (db.alone)."""
    return alone(ADVISORY_LOCK)


def bring_derived_data_up_to_date() -> None:
    """What follows from the models rather than from a migration, after every init-db and
    upgrade (idempotent): the reference rows (default steps, threshold categories), the search
    text of rows that lack it or hold a stale one, the trigram indexes on PostgreSQL, the open
    cases' search rows and the clients whose cases are all closed (their triggers, and the
    rows they missed), and the reports' counts:
    their triggers, and the rows not counted yet."""
    models.seed_reference_data()
    with database.atomic():
        refresh_all(models.ALL_MODELS)
    create_search_indexes(database, models.ALL_MODELS)
    models.create_report_triggers(database)
    models.create_waiting_triggers(database)
    models.create_open_case_search_triggers(database)
    models.resync_open_case_search(database)
    models.create_closed_client_triggers(database)
    models.resync_closed_clients(database)
    models.count_uncounted()


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n")[0]


# --- Helpers for the migrations ---------------------------------------------------------------


def columns_of(table: str) -> set[str]:
    return {column.name for column in database.get_columns(table)}


def indexes_of(table: str) -> set[str]:
    return {index.name for index in database.get_indexes(table)}


def add_column_with_default(table: str, field: Field, default: int | bool) -> None:
    """ALTER TABLE … ADD COLUMN … NOT NULL DEFAULT <constant>: both engines fill the existing
    rows in place. (playhouse.migrate's add_column would make the column NOT NULL afterwards by
    copying the table on SQLite, which with foreign keys on cascades to the rows that point at
    it.)"""
    ctx = database.obj.get_sql_context()
    column_type = ctx.sql(field.ddl_datatype(ctx)).query()[0]
    literal = ("TRUE" if default else "FALSE") if isinstance(default, bool) else str(int(default))
    database.execute_sql(
        f'ALTER TABLE "{table}" ADD COLUMN "{field.column_name}" {column_type} '
        f"NOT NULL DEFAULT {literal}"
    )


# --- Commands ---------------------------------------------------------------------------------

db_cli = AppGroup("db", help="Upgrade the database's schema: status, upgrade.")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the tables of a new database (on an existing one: check it is up to date)."""
    try:
        recorded = create_tables()
    except MigrationError as error:
        raise click.ClickException(str(error)) from error
    if recorded:
        click.echo(f"Tables created; migrations recorded as applied: {len(recorded)}")
    click.echo(f"Database ready: {describe(current_app)}")


@db_cli.command("upgrade")
@with_appcontext
def upgrade_command() -> None:
    """Apply the migrations this database lacks, in order (safe to run again)."""
    try:
        applied = upgrade(echo=click.echo)
    except MigrationError as error:
        raise click.ClickException(str(error)) from error
    done = f"{len(applied)} migration(s) applied" if applied else "Nothing to apply"
    click.echo(f"{done}. Database up to date: {describe(current_app)}")


@db_cli.command("status")
@with_appcontext
def status_command() -> None:
    """List every migration, applied or pending."""
    with database.connection_context():
        done = applied_names()
    for name in migration_names():
        click.echo(f"{'applied' if name in done else 'pending'}  {name}")


def describe(app: Flask) -> str:
    url = app.config.get("DATABASE_URL")
    if url:
        return url.split("@")[-1]
    return str(Path(app.instance_path) / "vrijbaan.sqlite")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(db_cli)
