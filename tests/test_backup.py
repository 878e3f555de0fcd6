"""Backups that restore: a backup made while another process keeps recording visits, restored
into a new database, holds every visit acknowledged before it started, whole and consistent —
on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from tests.conftest import POSTGRES_URL, BrowserLikeClient, in_db, make_case
from webapp import create_app, models
from webapp.backup import holds_data
from webapp.db import database

ROOT = Path(__file__).resolve().parents[1]

# Another process, as a busy team would be: each round opens a new case (client, steps, first
# timeline entry) and records a visit in one transaction, and says the visit's id once committed.
WRITER = """
import sys, uuid
from webapp import create_app
from webapp.db import database
from webapp.models import Case, Client, User, Visit
from webapp.timeutil import utcnow

create_app({"TESTING": True, "SECRET_KEY": "writer", "DATABASE_URL": sys.argv[1]})
with database.connection_context():
    mediator = User.get_by_id(int(sys.argv[2]))
    n = 0
    while True:
        n += 1
        with database.atomic():
            client = Client.create(first_name="Youssef", last_name=f"Test {n}", district="Deurne")
            case = Case.open_for(client, mediator, by=mediator, question="Zoekt een sportclub")
            visit = Visit.create(
                case=case, mediator=mediator, contact_type="huisbezoek", occurred_at=utcnow(),
                idempotency_key=uuid.uuid4().hex,
            )
        print(visit.id, flush=True)
"""


def flask_cli(url: str, *args: str) -> Result:
    """`flask --app wsgi ARGS` on the database at URL (in this process: starting Python and
    the app again for each command would only cost time)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url})
    result = app.test_cli_runner().invoke(args=list(args))
    if not database.is_closed():
        database.close()
    return result


class Writer:
    """The writing process and the ids of the visits it has acknowledged so far."""

    def __init__(self, url: str, mediator_id: int) -> None:
        self.acknowledged: list[int] = []
        self.news = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(mediator_id)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.news:
                self.acknowledged.append(int(line))
                self.news.notify_all()
        with self.news:
            self.news.notify_all()  # it stopped: let the test see why

    def wait_for(self, count: int) -> bool:
        """Wait until COUNT visits are acknowledged (False if the writer stopped first)."""
        with self.news:
            self.news.wait_for(
                lambda: len(self.acknowledged) >= count or self.process.poll() is not None,
                timeout=60,
            )
            return len(self.acknowledged) >= count

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.reader.join(timeout=30)


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the engine under test, to restore into."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path}/restored.sqlite"
        return
    import psycopg

    name = f"vrijbaan_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of SQL on the database at URL, through the engine's own driver (not the app)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def test_a_backup_made_during_writes_restores_every_acknowledged_visit(
    app: Flask, mediator: models.User, tmp_path: Path, fresh_url: str
) -> None:
    url = app.config["DATABASE_URL"]
    database.close()
    writer = Writer(url, mediator.id)
    try:
        assert writer.wait_for(20), writer.process.stderr.read()  # type: ignore[union-attr]
        before = list(writer.acknowledged)
        backup = tmp_path / "backups" / "nightly.backup"
        backup.parent.mkdir()
        made = flask_cli(url, "backup", str(backup))
        # The writer was not held up by the backup: it goes on recording visits.
        assert writer.wait_for(len(writer.acknowledged) + 10), "the writer stopped"
    finally:
        writer.stop()
    assert made.exit_code == 0, made.output
    # Personal data: only the owner may read the copy.
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    restored = flask_cli(fresh_url, "restore", str(backup))
    assert restored.exit_code == 0, restored.output

    visits = {row[0] for row in query(fresh_url, "SELECT id FROM visit")}
    assert set(before) <= visits, f"lost: {sorted(set(before) - visits)[:10]}"
    # Nothing half-written: every case has its client, all its steps and its visit.
    steps = query(fresh_url, "SELECT count(*) FROM step_definition")[0][0]
    assert (
        query(
            fresh_url,
            "SELECT c.id FROM cases c LEFT JOIN case_step s ON s.case_id = c.id "  # noqa: S608
            f"GROUP BY c.id HAVING count(s.id) <> {steps}",
        )
        == []
    )
    assert (
        query(
            fresh_url,
            "SELECT v.id FROM visit v LEFT JOIN cases c ON c.id = v.case_id "
            "LEFT JOIN client k ON k.id = c.client_id WHERE k.id IS NULL",
        )
        == []
    )
    assert query(fresh_url, "SELECT count(*) FROM cases")[0][0] == len(visits)
    if fresh_url.startswith("sqlite"):
        assert query(fresh_url, "PRAGMA integrity_check") == [("ok",)]
        assert query(fresh_url, "PRAGMA foreign_key_check") == []

    # The app runs on the restored database: the mediator logs in with the password they had
    # and finds the case of the last visit acknowledged before the backup.
    [(case_id, last_name)] = query(
        fresh_url,
        "SELECT c.id, k.last_name FROM visit v JOIN cases c ON c.id = v.case_id "  # noqa: S608
        f"JOIN client k ON k.id = c.client_id WHERE v.id = {max(before)}",
    )
    restored_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": fresh_url,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    restored_app.test_client_class = BrowserLikeClient
    browser = restored_app.test_client()
    browser.login(mediator)
    page = browser.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert last_name in page.get_data(as_text=True)


def test_restore_refuses_a_database_holding_data_without_force(
    app: Flask, mediator: models.User, tmp_path: Path
) -> None:
    url = app.config["DATABASE_URL"]
    make_case(mediator)
    database.close()
    backup = tmp_path / "copy.backup"
    assert flask_cli(url, "backup", str(backup)).exit_code == 0
    make_case(mediator)  # work done after the backup
    database.close()

    refused = flask_cli(url, "restore", str(backup))

    assert refused.exit_code != 0
    assert "--force" in refused.output
    assert query(url, "SELECT count(*) FROM cases")[0][0] == 2  # untouched

    forced = flask_cli(url, "restore", "--force", str(backup))

    assert forced.exit_code == 0, forced.output
    assert query(url, "SELECT count(*) FROM cases")[0][0] == 1  # as it was at the backup


def test_nightly_backups_in_a_folder_are_dated_private_and_expire(
    app: Flask, case: models.Case, tmp_path: Path
) -> None:
    url = app.config["DATABASE_URL"]
    database.close()
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / "vrijbaan-20250101-021500.sqlite"
    old.write_bytes(b"an old copy")
    keep = folder / "notes.txt"  # not ours: never removed
    keep.write_text("x")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(keep, (month_ago, month_ago))

    made = flask_cli(url, "backup", str(folder), "--keep-days", "14")

    assert made.exit_code == 0, made.output
    new = [p for p in folder.iterdir() if p.name.startswith("vrijbaan-")]
    assert len(new) == 1 and new[0] != old
    assert stat.S_IMODE(new[0].stat().st_mode) == 0o600
    assert keep.exists()
    assert "Removed" in made.output


def test_a_damaged_backup_is_refused_before_anything_is_replaced(
    app: Flask, mediator: models.User, tmp_path: Path
) -> None:
    url = app.config["DATABASE_URL"]
    make_case(mediator)
    database.close()
    backup = tmp_path / "copy.backup"
    assert flask_cli(url, "backup", str(backup)).exit_code == 0
    backup.write_bytes(backup.read_bytes()[:100])  # cut off, as on a full disk

    refused = flask_cli(url, "restore", "--force", str(backup))

    assert refused.exit_code != 0
    assert query(url, "SELECT count(*) FROM cases")[0][0] == 1


def test_a_database_just_made_by_init_db_holds_no_data(app: Flask) -> None:
    # Its steps, threshold categories and migration records are not anyone's data: a restore
    # into it goes ahead without --force.
    assert in_db(holds_data) == []
