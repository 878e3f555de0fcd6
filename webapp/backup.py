"""Backups that restore: `backup PATH` copies the running database consistently, `restore PATH`
puts a copy back. SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from peewee import PostgresqlDatabase, SqliteDatabase

from webapp import models
from webapp.db import database, drop_trigger_functions
from webapp.migrations import MigrationError, upgrade
from webapp.timeutil import utcnow

BACKUP_PREFIX = "vrijbaan-"
# Filled by init-db on every database: a database holding only these holds no one's data.
REFERENCE_TABLES = {"step_definition", "threshold_category", "schema_migration"}


@contextmanager
def private_file(path: Path) -> Iterator[Path]:
    """A new file next to PATH, readable by its owner only (a backup holds personal data),
    renamed to PATH when the block succeeds and removed when it fails: a reader never finds
    half a backup under the final name."""
    path = path.resolve()
    if not path.parent.is_dir():
        raise click.ClickException(f"No folder {path.parent}: make it first (mode 0700).")
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        yield partial
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def sqlite_check(path: Path) -> None:
    """Refuse a copy that SQLite finds damaged or that breaks a foreign key."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        broken_keys = conn.execute("PRAGMA foreign_key_check").fetchall()
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"{path} is not a usable SQLite database: {error}") from error
    finally:
        conn.close()
    if integrity != [("ok",)] or broken_keys:
        raise click.ClickException(
            f"{path} is damaged: {integrity[:3]} {len(broken_keys)} broken foreign keys"
        )


def sqlite_copy(source: str, target: str, journal_mode: str) -> None:
    """Copy one SQLite database into another with the online backup API, in one step: one read
    transaction, so the copy is the database as it was at one moment, while the app goes on
    writing (WAL lets writers continue next to the reader)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst, pages=-1)
        # A backup is one self-contained file; a restored database runs in WAL again.
        dst.execute(f"PRAGMA journal_mode={journal_mode}")
    finally:
        dst.close()
        src.close()


def pg_environment(url: str) -> dict[str, str]:
    """libpq's variables for DATABASE_URL, so that no password shows in the process list."""
    parts = urlsplit(url)
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", parts.hostname),
        ("PGPORT", str(parts.port) if parts.port else None),
        ("PGUSER", unquote(parts.username) if parts.username else None),
        ("PGPASSWORD", unquote(parts.password) if parts.password else None),
        ("PGDATABASE", parts.path.lstrip("/")),
    ):
        if value:
            env[name] = value
    return env


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise click.ClickException(
            f"{name} is not installed: apt-get install postgresql-client (the same major "
            "version as the server)"
        )
    return path


def run_pg_tool(args: list[str], url: str, **kwargs: Any) -> None:
    done = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        args, env=pg_environment(url), stderr=subprocess.PIPE, text=True, check=False, **kwargs
    )
    if done.returncode != 0:
        raise click.ClickException(f"{Path(args[0]).name} failed: {done.stderr.strip()}")


def holds_data() -> list[str]:
    """The tables of the models that hold rows beyond the reference data init-db adds (the
    search indexes follow from them: SQLite's FTS5 tables hold rows as soon as they exist)."""
    tables = set(database.get_tables()) & {m._meta.table_name for m in models.ALL_MODELS}
    full = []
    for table in sorted(tables - REFERENCE_TABLES):
        if database.execute_sql(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():  # noqa: S608
            full.append(table)
    return full


def sqlite_path() -> str:
    return str(database.obj.database) if isinstance(database.obj, SqliteDatabase) else ""


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--keep-days",
    type=click.IntRange(min=1),
    help="With a folder as PATH: remove this command's backups there older than this.",
)
@with_appcontext
def backup_command(path: Path, keep_days: int | None) -> None:
    """Copy the database to PATH (a file, or a new dated file in a folder), mode 0600, while
    the app keeps running."""
    url = current_app.config.get("DATABASE_URL") or ""
    postgres = isinstance(database.obj, PostgresqlDatabase)
    folder = path if path.is_dir() else None
    if folder is not None:
        stamp = utcnow().strftime("%Y%m%d-%H%M%S")
        path = folder / f"{BACKUP_PREFIX}{stamp}{'.dump' if postgres else '.sqlite'}"
    elif keep_days:
        raise click.ClickException("--keep-days needs a folder as PATH.")
    with private_file(path) as partial:
        if postgres:
            # pg_dump reads in one repeatable-read transaction: one consistent moment.
            with partial.open("wb") as out:
                run_pg_tool([pg_tool("pg_dump"), "--format=custom"], url, stdout=out)
        else:
            sqlite_copy(sqlite_path(), str(partial), "delete")
            sqlite_check(partial)
    click.echo(f"Backup written: {path} ({path.stat().st_size} bytes)")
    if folder is not None and keep_days:
        for old in expired_backups(folder, dt.timedelta(days=keep_days)):
            old.unlink()
            click.echo(f"Removed (older than {keep_days} days): {old}")


def expired_backups(folder: Path, keep: dt.timedelta) -> list[Path]:
    """This command's backups in FOLDER that are older than KEEP (by their time of writing)."""
    limit = time.time() - keep.total_seconds()
    return sorted(
        old
        for old in folder.glob(f"{BACKUP_PREFIX}*")
        if old.suffix in (".dump", ".sqlite") and old.stat().st_mtime < limit
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Put the backup at PATH in place of this database (refused if it holds data, unless
    --force), then apply the migrations it lacks (`db upgrade`)."""
    url = current_app.config.get("DATABASE_URL") or ""
    postgres = isinstance(database.obj, PostgresqlDatabase)
    # The copy is checked before anything of this database is touched.
    if postgres:
        run_pg_tool([pg_tool("pg_restore"), "--list", str(path)], url, stdout=subprocess.DEVNULL)
    else:
        sqlite_check(path)
    with database.connection_context():
        full = holds_data()
        if full and not force:
            raise click.ClickException(
                "This database holds data (" + ", ".join(full) + "): "
                "restore into a new, empty database, or add --force to replace it."
            )
        if postgres:
            # What init-db made is dropped first: pg_restore creates every table of the backup.
            tables = ", ".join(f'"{t}"' for t in database.get_tables())
            if tables:
                database.execute_sql(f"DROP TABLE {tables} CASCADE")
            drop_trigger_functions(database)
    if postgres:
        restore = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction"]
        run_pg_tool([*restore, "--dbname", pg_environment(url)["PGDATABASE"], str(path)], url)
    else:
        if not database.is_closed():
            database.close()
        sqlite_copy(str(path), sqlite_path(), "wal")
    try:
        applied = upgrade(echo=click.echo)  # a backup of an older release is brought up to date
    except MigrationError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {path}" + (f"; migrations applied: {len(applied)}" if applied else ""))


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
