"""Upgrading a live database: a database of the first release, with data in it, is brought up to
date by `db upgrade` and then equals a new database made by `init-db`, table by table (columns,
types, nullability, indexes, foreign keys, triggers, extensions); its data survives; a second
upgrade does nothing. On the engine under test (SQLite, or PostgreSQL with TEST_DATABASE_URL).

This is the test that fails when a model gains, loses or changes a field without a migration.

The fixtures in tests/fixtures/ are the schemas of the releases, as their init-db made them:
- release1.sqlite.sql: `git show 60ecc47:schema.sql` (the first release, 27 Nov 2026; its
  schema.sql was generated from its models and drift-tested, so it is exactly its DDL);
- release1.postgres.sql: the PostgreSQL DDL of the same models, printed by peewee from a
  `git archive 60ecc47` checkout (each model's `_schema._create_table(safe=True)` and
  `_create_indexes(safe=True)` bound to a PostgresqlDatabase, in ALL_MODELS order, which is what
  its init-db ran). Checked once: `pg_dump --schema-only` of a database made by that release's
  own init-db equals that of a database made from this file.
- release2.*.sql: the same for the second release (commit a3f826e, 2 Dec 2026), which recorded
  no migrations: its init-db made every table from its models (and could not upgrade a first
  release database: it created an index on access_link.provider_id before adding the column).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from peewee import CharField, PostgresqlDatabase
from playhouse.migrate import migrate

from tests.conftest import POSTGRES_URL
from webapp import create_app, migrations, models
from webapp.db import database
from webapp.migrations import migration_names

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-20 10:00:00"


def engine() -> str:
    return "postgres" if POSTGRES_URL else "sqlite"


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Any]:
    """Makes empty databases of the engine under test (dropped afterwards); returns URLs."""
    made: list[str] = []

    def make(label: str) -> str:
        if not POSTGRES_URL:
            return f"sqlite:///{tmp_path}/{label}.sqlite"
        import psycopg

        name = f"vrijbaan_migrate_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name

    yield make
    close()
    if made:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_on(url: str) -> Flask:
    """The app on the database at URL (the one database the models use from now on)."""
    close()
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url})


def load_release(url: str, release: str) -> None:
    ddl = (FIXTURES / f"{release}.{engine()}.sql").read_text()
    if engine() == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executescript(ddl)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ddl)


def close() -> None:
    if database.obj is not None and not database.is_closed():
        database.close()


def run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def sql(statement: str, *params: Any) -> list[tuple[Any, ...]]:
    cursor = database.execute_sql(statement.replace("?", database.param), params)
    return list(cursor.fetchall()) if cursor.description else []


def insert(table: str, **values: Any) -> None:
    columns = ", ".join(f'"{c}"' for c in values)
    marks = ", ".join("?" for _ in values)
    sql(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', *values.values())  # noqa: S608


def fill_first_release() -> None:
    """A few rows as the first release wrote them: a mediator with a case, visits with and
    without a next action, a timeline, an activity, a referral and its organisation."""
    user = {"password_hash": "x", "service": "ocmw", "phone": "", "failed_logins": 0}
    insert(
        "users",
        id=1,
        email="sara@stad.be",
        name="Sara",
        role="mediator",
        active=True,
        created_at=NOW,
        **user,
    )
    insert(
        "users",
        id=2,
        email="jo@stad.be",
        name="Jo",
        role="coordinator",
        active=True,
        created_at=NOW,
        **user,
    )
    insert(
        "client",
        id=1,
        first_name="Ayşe",
        last_name="Çelik",
        phone="0470 12 34 56",
        email="",
        street="Turnhoutsebaan 12",
        postcode="2140",
        district="Borgerhout",
        language="tr",
        household_note="",
        card_type="",
        created_at=NOW,
        updated_at=NOW,
        version=1,
    )
    insert(
        "step_definition",
        id=1,
        position=1,
        key="aanmelding",
        label="Aanmelding",
        completed_by="case_opened",
    )
    insert(
        "cases",
        id=1,
        client_id=1,
        mediator_id=1,
        status="open",
        source="permanentie",
        question="Zwemmen",
        interests="sport",
        opened_at=NOW,
        outcome="",
        outcome_reason="",
        outcome_note="",
        current_position=1,
        updated_at=NOW,
        version=1,
    )
    visit = {
        "case_id": 1,
        "mediator_id": 1,
        "duration_minutes": 30,
        "place": "",
        "contact_made": True,
        "planned": False,
        "notes": "Gesprek",
        "created_at": NOW,
    }
    insert(
        "visit",
        id=1,
        contact_type="huisbezoek",
        occurred_at=NOW,
        idempotency_key="v1",
        next_action="Zwemclub bellen",
        next_action_due="2026-11-25",
        **visit,
    )
    insert(
        "visit",
        id=2,
        contact_type="telefonisch",
        occurred_at=NOW,
        idempotency_key="v2",
        next_action="Attest vragen",
        next_action_due="2026-11-18",
        next_action_done_at="2026-11-19 09:00:00",
        **visit,
    )
    insert(
        "visit",
        id=3,
        contact_type="telefonisch",
        occurred_at=NOW,
        idempotency_key="v3",
        next_action="",
        **visit,
    )
    insert("case_event", id=1, case_id=1, at=NOW, actor_id=1, kind="visit", visit_id=1, detail="")
    insert(
        "provider",
        id=1,
        name="Zwemclub Şahin",
        kind="sport",
        contact_name="",
        phone="",
        email="",
        street="",
        postcode="2140",
        district="Borgerhout",
        archived=False,
        created_at=NOW,
        version=1,
    )
    insert(
        "activity",
        id=1,
        provider_id=1,
        title="Zwemles",
        domain="sport",
        description="",
        street="",
        postcode="2140",
        district="Borgerhout",
        schedule="woensdag 14-15 uur",
        price_full_cents=5000,
        what_to_bring="",
        accessibility="",
        archived=False,
        created_at=NOW,
        version=1,
    )
    insert(
        "referring_organisation",
        id=1,
        name="CAW Antwerpen",
        kind="caw",
        district="",
        email="",
        phone="",
        archived=False,
        created_at=NOW,
    )
    insert(
        "referral",
        id=1,
        organisation_id=1,
        reference="R-2026-0001",
        idempotency_key="r1",
        referrer_name="Els",
        referrer_role="",
        referrer_phone="",
        referrer_email="",
        first_name="Dorota",
        last_name="Nowak",
        phone="",
        language="pl",
        district="",
        household="",
        domains="sport",
        interests="",
        question="",
        known_thresholds="",
        first_contact="",
        consent_text="Ja",
        status="new",
        decline_reason="",
        submitted_at=NOW,
    )
    if (
        engine() == "postgres"
    ):  # rows inserted with their ids: the sequences move on as a restore would
        for table in (
            "users",
            "client",
            "step_definition",
            "cases",
            "visit",
            "case_event",
            "provider",
            "activity",
            "referring_organisation",
            "referral",
        ):
            sql(f'SELECT setval(\'"{table}_id_seq"\', (SELECT MAX(id) FROM "{table}"))')  # noqa: S608


def schema() -> dict[str, Any]:
    """What the comparison looks at, per table: each column's type, nullability and key, each
    index's columns and uniqueness, each foreign key with its ON DELETE; and the database's
    triggers, virtual tables (SQLite's FTS5) and extensions (PostgreSQL's pg_trgm). Not
    compared: the order of columns (a column added later comes last), constraint and foreign
    key names, and columns' defaults (every default of the models lives in Python, not in the
    database; a migration may leave one behind to fill the existing rows, which is harmless)."""
    result: dict[str, Any] = {}
    postgres = isinstance(database.obj, PostgresqlDatabase)
    # SQLite's statistics (sqlite_stat1, from ANALYZE) are no part of the schema.
    tables = [t for t in database.get_tables() if not t.startswith("sqlite_stat")]
    for table in sorted(tables):
        if postgres:
            columns = {
                name: (kind, length, nullable)
                for name, kind, length, nullable in sql(
                    "SELECT column_name, data_type, character_maximum_length, is_nullable "
                    "FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = ?",
                    table,
                )
            }
            keys = sql(
                "SELECT kcu.column_name, ccu.table_name, ccu.column_name, rc.delete_rule "
                "FROM information_schema.referential_constraints rc "
                "JOIN information_schema.key_column_usage kcu "
                "ON kcu.constraint_name = rc.constraint_name "
                "JOIN information_schema.constraint_column_usage ccu "
                "ON ccu.constraint_name = rc.unique_constraint_name "
                "WHERE kcu.table_name = ?",
                table,
            )
        else:
            columns = {
                c.name: (c.data_type.upper(), c.null, c.primary_key)
                for c in database.get_columns(table)
            }
            keys = [
                (row[3], row[2], row[4], row[6])
                for row in sql(f'PRAGMA foreign_key_list("{table}")')
            ]
        result[table] = {
            "columns": columns,
            "indexes": {i.name: (tuple(i.columns), i.unique) for i in database.get_indexes(table)},
            "foreign keys": sorted(keys),
        }
    if postgres:
        result["triggers"] = sql(
            "SELECT trigger_name, event_object_table, event_manipulation "
            "FROM information_schema.triggers ORDER BY 1, 2, 3"
        )
        result["extensions"] = sql("SELECT extname FROM pg_extension ORDER BY 1")
    else:
        # FTS5 tables (their shadow tables are ordinary tables above) and triggers, by their
        # DDL with the spacing evened out.
        result["virtual tables and triggers"] = [
            (name, " ".join(ddl.split()))
            for name, ddl in sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "OR sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
            )
        ]
    return result


def assert_same_schema(upgraded: dict[str, Any], fresh: dict[str, Any]) -> None:
    assert sorted(upgraded) == sorted(fresh), "tables differ"
    for table in fresh:
        assert upgraded[table] == fresh[table], (
            f"{table} differs between the upgraded and a new database: does a model change "
            "lack its migration (webapp/migrations/NNNN_*.py)?"
        )


def fresh_schema(new_database: Any) -> dict[str, Any]:
    app = app_on(new_database("fresh"))
    run(app, "init-db")
    with app.app_context(), database.connection_context():
        return schema()


def test_a_first_release_database_upgrades_to_what_init_db_makes(new_database) -> None:
    url = new_database("release1")
    load_release(url, "release1")
    app = app_on(url)
    with app.app_context(), database.connection_context():
        fill_first_release()
        counts = {t: sql(f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in database.get_tables()}  # noqa: S608

    refused = app.test_cli_runner().invoke(args=["init-db"])
    assert refused.exit_code != 0 and "db upgrade" in refused.output

    output = run(app, "db", "upgrade")
    assert "Applying 0001_first_release" in output and "Applying 0002_second_release" in output
    assert f"{len(migration_names())} migration(s) applied" in output
    assert "statistics (ANALYZE)" in output  # the planners know the new indexes

    with app.app_context(), database.connection_context():
        upgraded = schema()
        for table, count in counts.items():  # no row lost (cascades, rebuilt tables)
            assert sql(f'SELECT COUNT(*) FROM "{table}"')[0][0] >= count, table  # noqa: S608
        tasks = [
            (t.visit_id, t.text, str(t.due), t.source, t.created_by_id, t.done_at)
            for t in models.Task.select().order_by(models.Task.visit)
        ]
        client = models.Client.get_by_id(1)
        versions = (models.User.get_by_id(1).version, models.ReferringOrganisation.get().version)
        steps = models.StepDefinition.select().count()
        # Every case, contact, threshold and session of the old database counted once for
        # the reports, by the upgrade itself.
        counted = models.ReportCounted.select().count()
        rows = sum(m.select().count() for m in (models.Case, models.Visit, models.CaseThreshold))
        assert counted == rows + models.Session.select().count() > 0
        # The upgraded database works with today's models: a contact is recorded and found.
        models.Visit.create(
            case=1, mediator=1, contact_type="huisbezoek", occurred_at=NOW, idempotency_key="after"
        )
        found = models.Client.select().where(models.Client.search_text.contains("celik"))

    assert tasks[0][:5] == (1, "Zwemclub bellen", "2026-11-25", "visit", 1)
    assert tasks[1][:5] == (2, "Attest vragen", "2026-11-18", "visit", 1)
    assert tasks[0][5] is None and str(tasks[1][5]).startswith("2026-11-19 09:00")
    assert len(tasks) == 2  # the visit without a next action made no to-do
    assert client.first_name == "Ayşe" and client.search_text.startswith("| ayse celik |")
    assert versions == (1, 1)
    assert steps == len(models.DEFAULT_STEPS)
    with app.app_context(), database.connection_context():
        assert [c.id for c in found] == [1]

    again = run(app, "db", "upgrade")
    assert "Nothing to apply" in again
    with app.app_context(), database.connection_context():
        assert schema() == upgraded
        assert models.Task.select().count() == 2

    assert_same_schema(upgraded, fresh_schema(new_database))


def test_a_second_release_database_without_migrations_upgrades_too(new_database) -> None:
    # The second release made every table from its models and recorded no migration: the
    # second migration finds its tables and columns there and adds nothing twice.
    url = new_database("release2")
    load_release(url, "release2")
    app = app_on(url)
    output = run(app, "db", "upgrade")
    assert "Applying 0002_second_release" in output
    with app.app_context(), database.connection_context():
        upgraded = schema()
    assert_same_schema(upgraded, fresh_schema(new_database))


def test_init_db_makes_a_new_database_with_every_migration_recorded(new_database) -> None:
    app = app_on(new_database("new"))
    assert "migrations recorded as applied" in run(app, "init-db")
    assert "Tables created" not in run(app, "init-db")  # again: nothing to do
    status = run(app, "db", "status")
    assert status.split() == [word for n in migration_names() for word in ("applied", n)]
    assert "Nothing to apply" in run(app, "db", "upgrade")


def test_upgrade_refuses_an_empty_database_and_a_foreign_one(new_database) -> None:
    app = app_on(new_database("empty"))
    empty = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert empty.exit_code != 0 and "init-db" in empty.output
    with app.app_context(), database.connection_context():
        sql('CREATE TABLE "notes" ("id" INTEGER PRIMARY KEY)')
    foreign = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert foreign.exit_code != 0 and "not one of Vrijbaan's" in foreign.output
    with app.app_context(), database.connection_context():
        assert "visit" not in database.get_tables()  # nothing was made


def test_a_failing_migration_leaves_the_database_as_it_was(new_database, monkeypatch) -> None:
    app = app_on(new_database("failing"))
    run(app, "init-db")

    def up(migrator: Any, database: Any) -> None:
        migrate(migrator.add_column("client", "nickname", CharField(max_length=20, null=True)))
        raise RuntimeError("the disk is full")

    broken = SimpleNamespace(__doc__="Adds a nickname, then fails.", up=up)
    names = [*migrations.migration_names(), "9999_broken"]
    real_load = migrations.load
    monkeypatch.setattr(migrations, "migration_names", lambda: names)
    monkeypatch.setattr(migrations, "load", lambda n: broken if n == names[-1] else real_load(n))

    failed = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert failed.exit_code != 0 and "Applying 9999_broken" in failed.output
    with app.app_context(), database.connection_context():
        assert "nickname" not in migrations.columns_of("client")
        assert "9999_broken" not in migrations.applied_names()
    assert "pending  9999_broken" in run(app, "db", "status")


UPGRADE = """
import sys
from webapp import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": sys.argv[1]})
result = app.test_cli_runner().invoke(args=["db", "upgrade"])
print(result.output, repr(result.exception))
sys.exit(result.exit_code)
"""


def test_two_servers_upgrading_at_once_apply_each_migration_once(new_database) -> None:
    url = new_database("twice")
    load_release(url, "release1")
    with app_on(url).app_context(), database.connection_context():
        fill_first_release()
    close()
    servers = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [server.communicate(timeout=120)[0] for server in servers]
    assert [server.returncode for server in servers] == [0, 0], outputs
    for name in migration_names():  # each applied by one of the two
        assert sum(f"Applying {name}" in output for output in outputs) == 1, outputs
    with app_on(url).app_context(), database.connection_context():
        assert models.Task.select().count() == 2  # the next actions moved once
        assert migrations.pending_names() == []
