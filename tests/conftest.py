"""Fixtures: an app on a fresh database (SQLite, or PostgreSQL with TEST_DATABASE_URL), clients
that log in and carry the CSRF token like a browser, and factories for realistic records."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import AutoField
from werkzeug.security import generate_password_hash

from webapp import create_app, models
from webapp.db import database, open_database
from webapp.migrations import create_tables
from webapp.timeutil import utcnow

PASSWORD = "correct horse battery staple"
# The real cost (600 000 rounds) is tested in test_auth; elsewhere a cheap hash keeps tests fast.
CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, the presentation sweeps (every page's HTML and CSS in Chromium: axe,
    widths, text size; 136 tests, a third of a run's time) are left out: they check what
    the templates and the stylesheet make of the demo data, the same on either engine, and run
    on SQLite. Every page is still rendered on PostgreSQL by the other tests (the bad-input
    sweep opens all of them). `-m presentation` runs them on PostgreSQL too."""
    if not POSTGRES_URL or config.getoption("markexpr"):
        return
    left_out = [item for item in items if item.get_closest_marker("presentation")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("presentation")]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test run, dropped afterwards (None on SQLite)."""
    if not POSTGRES_URL:
        yield None
        return
    import psycopg

    name = f"vrijbaan_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    database.close() if not database.is_closed() else None
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class BuiltSchema:
    """The schema, built once per run as `init-db` builds it on an empty database; each test
    then starts from a copy of it (SQLite: the file; PostgreSQL: the tables emptied and the rows
    init-db wrote put back). Building it for every test cost a quarter of a second each on
    PostgreSQL (most of the run there)."""

    def __init__(self, folder: Path, postgres_url: str | None) -> None:
        self.postgres_url = postgres_url
        self.sqlite_file = folder / "schema.sqlite"
        self.build()

    def url(self, folder: Path) -> str:
        """A database for one test (or one module), holding only what init-db put in."""
        if self.postgres_url:
            self.reset_postgres()
            return self.postgres_url
        copy = folder / "test.sqlite"
        shutil.copyfile(self.sqlite_file, copy)
        return f"sqlite:///{copy}"

    def build(self) -> None:
        url = self.postgres_url or f"sqlite:///{self.sqlite_file}"
        with create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url}).app_context():
            if self.postgres_url:
                with database.connection_context():
                    database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            create_tables()
            with database.connection_context():
                self.rows = {
                    m._meta.table_name: list(m.select().order_by(*m._meta.sorted_fields).tuples())
                    for m in models.ALL_MODELS
                }
                self.shape = self.fingerprint()
        if not self.postgres_url:
            # Fold the write-ahead log into the file, so that the file alone is the database.
            with closing(sqlite3.connect(self.sqlite_file)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def fingerprint(self) -> str:
        """The tables, columns and indexes as PostgreSQL lists them (a test may change them)."""
        if not self.postgres_url:
            return ""
        return database.execute_sql(
            "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM ("
            " SELECT table_name || '.' || column_name || ':' || data_type AS x"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = 'public') AS s"
        ).fetchone()[0]

    def reset_postgres(self) -> None:
        """Empty every table in one round trip (TRUNCATE is ten times slower on tables this
        small), start the ids again at 1, and put back the rows init-db wrote. A test that
        changed the schema (init-db's own tests do) gets it built again for the next one."""
        if not database.is_closed():
            database.close()
        _use_database(open_database(self.postgres_url, ""))
        with database.connection_context():
            if self.fingerprint() != self.shape:
                database.close()
                self.build()
                _use_database(open_database(self.postgres_url, ""))
                return
            tables = [m._meta.table_name for m in reversed(models.ALL_MODELS)]  # dependents first
            with_ids = [
                m._meta.table_name
                for m in models.ALL_MODELS
                if isinstance(m._meta.primary_key, AutoField)
            ]
            database.execute_sql(
                "; ".join(
                    [f'DELETE FROM "{t}"' for t in tables]  # noqa: S608 (our own table names)
                    # What the deletes' triggers marked for the reports to count again.
                    + ['DELETE FROM "report_dirty"']
                    + [f'ALTER SEQUENCE "{t}_id_seq" RESTART' for t in with_ids]
                )
            )
            with database.atomic():
                for model in models.ALL_MODELS:
                    rows = self.rows[model._meta.table_name]
                    if rows:
                        fields = model._meta.sorted_fields
                        model.insert_many(rows, fields=fields).execute()
                        if model._meta.table_name not in with_ids:
                            continue
                        table = model._meta.table_name
                        database.execute_sql(
                            f'SELECT setval(\'"{table}_id_seq"\', max(id)) FROM "{table}"'  # noqa: S608
                        )


@pytest.fixture(scope="session")
def memory_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder in memory (/dev/shm) where there is one, for the tests' SQLite files: a test
    database needs no fsync, and on a busy disk the fsyncs took a tenth of the run."""
    shm = Path("/dev/shm")  # noqa: S108 (mkdtemp below makes a private folder in it)
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("databases")
        return
    folder = Path(tempfile.mkdtemp(prefix="vrijbaan-tests-", dir=shm))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def built_schema(memory_folder: Path, postgres_database: str | None) -> BuiltSchema:
    return BuiltSchema(memory_folder, postgres_database)


@pytest.fixture
def database_url(memory_folder: Path, built_schema: BuiltSchema) -> Iterator[str]:
    """A database for this test with the schema and the reference rows, nothing else."""
    yield built_schema.url(memory_folder)
    for leftover in memory_folder.glob("test.sqlite*"):
        leftover.unlink()


@pytest.fixture(scope="session")
def built_app(built_schema: BuiltSchema) -> Flask:
    """The app, made once per run: making it compiles every URL rule, a quarter of the run
    when each test made its own. Each test gets it with its own database and the configuration
    as made (tests that need another configuration call create_app themselves)."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": built_schema.postgres_url or f"sqlite:///{built_schema.sqlite_file}",
            "SESSION_COOKIE_SECURE": False,
        }
    )


@pytest.fixture
def app(built_app: Flask, database_url: str) -> Iterator[Flask]:
    """The app on this test's database; what a test changes in its configuration is undone."""
    configuration = dict(built_app.config)
    built_app.config["DATABASE_URL"] = database_url
    built_app.test_client_class = None
    if not database.is_closed():
        database.close()
    _use_database(open_database(database_url, built_app.instance_path))
    yield built_app
    _use_database(None)
    built_app.config.clear()
    built_app.config.update(configuration)


def _use_database(new: object | None) -> None:
    """Close every connection of the database in use (the pool's idle ones too: no connection
    outlives its test), then use `new` (None: keep the closed one)."""
    if database.obj is not None:
        if not database.is_closed():
            database.close()
        if hasattr(database.obj, "close_all"):
            database.obj.close_all()
    if new is not None:
        database.initialize(new)


class BrowserLikeClient(FlaskClient):
    """A test client that sends the CSRF token on state-changing requests, as our pages do."""

    csrf_token: str | None = None

    def open(self, *args: Any, **kwargs: Any) -> Any:
        method = (kwargs.get("method") or "GET").upper()
        send_token = kwargs.pop("csrf", True)
        if method not in ("GET", "HEAD", "OPTIONS") and send_token:
            if self.csrf_token is None:
                self.refresh_csrf()
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def refresh_csrf(self) -> None:
        page = super().open("/login", method="GET", follow_redirects=True).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, "no CSRF token on the page"
        self.csrf_token = match.group(1)

    def login(self, user: models.User, password: str = PASSWORD) -> Any:
        """Log in through the forms, with a code from the app when the user has one."""
        self.csrf_token = None
        response = self.post(
            "/login", data={"email": user.email, "password": password}, follow_redirects=False
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        if response.headers["Location"].endswith("/twofactor/code"):
            self.refresh_csrf()
            response = self.post("/twofactor/code", data={"code": fresh_code(user)})
            assert response.status_code == 303, response.get_data(as_text=True)[:500]
        self.refresh_csrf()
        return response


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = BrowserLikeClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


HTMX = {"HX-Request": "true"}
# The authenticator app of every coordinator the fixtures make (coordinators must have one).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def fresh_code(user: models.User) -> str:
    """A code of the user's app that the app has not accepted before: the record of the last
    accepted one is forgotten, as if 30 seconds had passed since the previous login."""
    with database.connection_context():
        factor = models.SecondFactor.get(models.SecondFactor.user == user.id)
        models.SecondFactor.update(last_step=None).where(
            models.SecondFactor.id == factor.id
        ).execute()
    return pyotp.TOTP(factor.secret).now()


def make_user(
    email: str, name: str, role: str = "mediator", service: str = "ocmw", **fields: Any
) -> models.User:
    with database.connection_context():
        user = models.User.create(
            email=email, name=name, role=role, service=service, password_hash=CHEAP_HASH, **fields
        )
        if role == "coordinator":
            models.SecondFactor.create(user=user, secret=TOTP_SECRET)
        return user


@pytest.fixture
def mediator(app: Flask) -> models.User:
    return make_user("sara.elamrani@vrijbaan.test", "Sara El Amrani", phone="0470 12 34 56")


@pytest.fixture
def other_mediator(app: Flask) -> models.User:
    return make_user("tom.peeters@vrijbaan.test", "Tom Peeters", service="sport")


@pytest.fixture
def coordinator(app: Flask) -> models.User:
    return make_user("els.janssens@vrijbaan.test", "Els Janssens", role="coordinator")


def make_client(**fields: Any) -> models.Client:
    values: dict[str, Any] = {
        "first_name": "Amina",
        "last_name": "Bouzid",
        "birth_date": dt.date(2012, 3, 14),
        "phone": "0486 11 22 33",
        "district": "Borgerhout",
        "language": "ar",
        "postcode": "2140",
    }
    values.update(fields)
    with database.connection_context():
        return models.Client.create(**values)


def make_case(
    mediator: models.User, client: models.Client | None = None, **fields: Any
) -> models.Case:
    client = client or make_client()
    with database.connection_context():
        return models.Case.open_for(
            client,
            mediator,
            by=mediator,
            question=fields.pop("question", "Zoekt een sportclub"),
            **fields,
        )


def make_task(
    case: models.Case, text: str, due: dt.date | None = None, **fields: Any
) -> models.Task:
    """An open to-do on the case, given by its mediator unless told otherwise."""
    fields.setdefault("created_by", case.mediator_id)
    with database.connection_context():
        return models.Task.create(case=case.id, text=text, due=due, **fields)


@pytest.fixture
def case(mediator: models.User) -> models.Case:
    return make_case(mediator)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []
    original = database.obj.execute_sql

    def counting(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return original(sql, params, *args, **kwargs)

    database.obj.execute_sql = counting
    try:
        yield statements
    finally:
        del database.obj.execute_sql


def in_db(fn: Any) -> Any:
    """Run fn inside a database connection (for reading back what a request stored)."""
    with database.connection_context():
        return fn()


__all__ = [
    "HTMX",
    "PASSWORD",
    "TOTP_SECRET",
    "count_queries",
    "fresh_code",
    "in_db",
    "make_case",
    "make_client",
    "make_task",
    "make_user",
    "utcnow",
]
