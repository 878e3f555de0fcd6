"""Fixtures: an app on a fresh database (SQLite, or PostgreSQL with TEST_DATABASE_URL), clients
that log in and carry the CSRF token like a browser, and factories for realistic records."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import MemcachedBytecodeCache
from werkzeug.security import generate_password_hash

from webapp import create_app, models
from webapp.db import create_tables, database
from webapp.timeutil import utcnow

PASSWORD = "correct horse battery staple"
# The real cost (600 000 rounds) is tested in test_auth; elsewhere a cheap hash keeps tests fast.
CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


class CompiledTemplates(dict):
    """Jinja's compiled templates kept in memory for the whole run: each test gets a new app,
    and without this each app would compile every template again (a third of the run)."""

    def set(self, key: str, value: bytes, timeout: int | None = None) -> None:
        self[key] = value


COMPILED_TEMPLATES = MemcachedBytecodeCache(CompiledTemplates(), prefix="", timeout=None)


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


@pytest.fixture
def app(tmp_path: Any, postgres_database: str | None) -> Iterator[Flask]:
    url = postgres_database or f"sqlite:///{tmp_path}/test.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": url,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    if postgres_database:
        _empty_postgres()
    create_tables()
    yield app
    if not database.is_closed():
        database.close()
    if hasattr(database.obj, "close_idle"):  # the PostgreSQL pool: no connection outlives its app
        database.obj.close_idle()


def _empty_postgres() -> None:
    """Empty every table of this run's database, in one round trip (TRUNCATE is ten times
    slower on tables this small); the ids start again at 1."""
    with database.connection_context():
        if not models.User.table_exists():
            return
        tables = [m._meta.table_name for m in reversed(models.ALL_MODELS)]  # dependents first
        database.execute_sql(
            "; ".join(
                [f'DELETE FROM "{t}"' for t in tables]  # noqa: S608 (our own table names)
                + [f'ALTER SEQUENCE "{t}_id_seq" RESTART' for t in tables]
            )
        )


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
