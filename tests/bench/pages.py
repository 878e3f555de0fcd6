"""Benchmark: does a page take the same time at 100 000 cases as at 1 000? (issue 15)

    python tests/bench/pages.py [--shape realistic|stress] [--sizes 1000 100000]
                                [--postgres URL] [--keep DIR] [--rounds 3] [--repeat 20]
                                [--plans] [--gunicorn SECONDS]

Builds one database per size (bulk inserts, in chunks, one transaction each), then serves every
size from ONE process: for each page, the sizes' requests alternate, so that whatever else the
machine does weighs on both alike. Each round gives p50 and p95 per page and size; the table
shows the ratio p95(largest) / p95(smallest) as the median of the rounds with its spread, the
page's gzipped HTML and its SQL queries. A bare Flask app of its own (the *floor*) renders a page
of the case page's size with one query, as the least a page can cost on this machine; the case
page's p50 is given against it.

Shapes:
  realistic  ten years of a city's work: one mediator per 500 cases (at least 2), each with 30-60
             open cases, the rest closed, visits, to-dos, thresholds, referrals and enrolments
             spread over those ten years.
  stress     today's demo shape blown up: 10 mediators, every case open, a year of visits.

`--keep DIR` keeps the built SQLite files (or PostgreSQL databases, named after the shape and
size) and uses them again on the next run. `--postgres URL` names a server database that the
benchmark may use to create its own databases `vrijbaan_bench_<shape>_<size>` next to it.
`--gunicorn SECONDS` also starts gunicorn (2 workers) on the largest database and on the floor,
and counts the case page's and the floor's requests per second from 8 client threads.
It reports figures; it asserts nothing (budgets: DESIGN.md §6).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from flask import Flask, render_template_string  # noqa: E402
from peewee import PostgresqlDatabase, fn  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from tests.conftest import PASSWORD, TOTP_SECRET, BrowserLikeClient, count_queries  # noqa: E402
from webapp import create_app, models  # noqa: E402
from webapp.db import database, open_database  # noqa: E402
from webapp.migrations import MigrationError, create_tables, upgrade  # noqa: E402
from webapp.timeutil import local_today, utcnow  # noqa: E402

FIRST = ["Amina", "Youssef", "Elif", "Mehmet", "Kasia", "Ioana", "Mariam", "Ahmad", "Sofie", "Luca"]
FIRST += ["Ayşe", "Lucía", "Łukasz", "Ionuț"]
LAST = ["Bouzid", "El Idrissi", "Yilmaz", "Kowalska", "Popescu", "Haidari", "Peeters", "Mohamed"]
LAST += ["Çelik", "Wiśniewska", "Nguyễn", "Bogdănescu"]
ACTIVITIES = ["Zwemles", "Voetbal", "Tekenatelier", "Theaterkamp", "Judo", "Muziekschool"]
ACTIVITIES += ["Jeugdbeweging", "Bibliotheekclub", "Dansles", "Schaakclub"]
CHUNK = 500
MARKER = "bench data v2"  # the last row a complete build writes (a ReferringOrganisation)
DAY = dt.timedelta(days=1)


# -- building the data ---------------------------------------------------------------------


class Shape:
    """How the cases of a size are spread: mediators, open cases, years of history."""

    def __init__(self, name: str, n_cases: int) -> None:
        self.name, self.n_cases = name, n_cases
        if name == "realistic":
            self.n_mediators = max(2, n_cases // 500)
            self.history_days = 3650
        else:
            self.n_mediators = 10
            self.history_days = 365

    def open_counts(self, rng: random.Random) -> list[int]:
        """How many open cases each mediator has."""
        if self.name == "stress":
            return [self.n_cases // self.n_mediators] * self.n_mediators
        return [rng.randint(30, 60) for _ in range(self.n_mediators)]


def _bulk(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows in chunks; returns their ids in order (ids are given, not guessed back)."""
    for start in range(0, len(rows), CHUNK):
        model.insert_many(rows[start : start + CHUNK]).execute()
    return [r["id"] for r in rows if "id" in r]


def fill(shape: Shape, rng: random.Random) -> None:
    """Bulk-insert a shape's users, clients, cases and all that hangs on them, in one
    transaction with explicit ids (so one pass, and no reading back)."""
    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    now = utcnow()
    services = list(models.SERVICES)
    mediators = [
        models.User.create(
            email=f"m{i}@bench.test",
            name=f"Bemiddelaar {i}",
            role="mediator",
            service=services[i % len(services)],
            password_hash=cheap,
        )
        for i in range(shape.n_mediators)
    ]
    coordinator = models.User.create(
        email="c@bench.test", name="Coördinator", role="coordinator", password_hash=cheap
    )
    models.SecondFactor.create(user=coordinator, secret=TOTP_SECRET)
    steps = list(models.StepDefinition.ordered())
    categories = [c.id for c in models.ThresholdCategory.select()]
    organisations = [
        models.ReferringOrganisation.create(
            name=f"Organisatie {i}", kind=list(models.ORGANISATION_KINDS)[i % 3]
        ).id
        for i in range(20)
    ]
    provider = models.Provider.create(name="Sportdienst Antwerpen")
    activities = _bulk(
        models.Activity,
        [
            {
                "id": i + 1,
                "provider": provider.id,
                "title": f"{ACTIVITIES[i % len(ACTIVITIES)]} {i}",
                "domain": list(models.DOMAINS)[i % 3],
                "district": rng.choice(models.DISTRICTS),
                "description": "Elke week, met begeleiding; kansentarief mogelijk.",
                "price_full_cents": 12000,
                "price_reduced_cents": 2400,
            }
            for i in range(300)
        ],
    )
    # Each mediator's open cases first, then the closed ones over the years.
    counts = shape.open_counts(rng)
    owners = [m.id for m, k in zip(mediators, counts, strict=True) for _ in range(k)]
    n_open = min(len(owners), shape.n_cases)
    owners = owners[:n_open] + [
        mediators[rng.randrange(len(mediators))].id for _ in range(shape.n_cases - n_open)
    ]
    ids = {"visit": 0, "task": 0, "enrolment": 0, "session": 0, "referral": 0, "audit": 0}
    for start in range(0, shape.n_cases, CHUNK):
        with database.atomic():
            _fill_chunk(shape, rng, now, start, owners, n_open, steps, categories, organisations,
                        activities, ids)  # fmt: skip
    with database.atomic():
        models.ReferringOrganisation.create(name=MARKER, archived=True)


def _fill_chunk(
    shape: Shape,
    rng: random.Random,
    now: dt.datetime,
    start: int,
    owners: list[int],
    n_open: int,
    steps: list[Any],
    categories: list[int],
    organisations: list[int],
    activities: list[int],
    ids: dict[str, int],
) -> None:
    def next_id(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    clients, cases, case_steps, visits, tasks, thresholds = [], [], [], [], [], []
    referrals, enrolments, sessions, audits, messages = [], [], [], [], []
    today = local_today()
    for number in range(start, min(start + CHUNK, shape.n_cases)):
        cid = number + 1
        is_open = number < n_open
        mediator = owners[number]
        if is_open:
            opened = now - dt.timedelta(days=rng.randrange(min(540, shape.history_days)))
            closed = None
        else:
            opened = now - dt.timedelta(days=30 + rng.randrange(shape.history_days - 30))
            closed = min(opened + dt.timedelta(days=30 + rng.randrange(400)), now - DAY)
        until = closed or now
        clients.append(
            {
                "id": cid,
                "first_name": rng.choice(FIRST),
                "last_name": f"{rng.choice(LAST)} {cid}",
                "birth_date": dt.date(
                    1950 + rng.randrange(70), 1 + rng.randrange(12), 1 + rng.randrange(28)
                ),
                "phone": f"04{rng.randrange(10**8):08d}" if cid > 1 else "+32 470 12 34 56",
                "district": rng.choice(models.DISTRICTS),
            }
        )
        position = 1 + rng.randrange(len(steps)) if steps else 1
        via_referral = rng.random() < 0.4
        cases.append(
            {
                "id": cid,
                "client": cid,
                "mediator": mediator,
                "status": "open" if is_open else "closed",
                "source": "doorverwijzing" if via_referral else "permanentie",
                "interests": ",".join(d for d in models.DOMAINS if rng.random() < 0.4),
                "current_position": position,
                "opened_at": opened,
                "closed_at": closed,
                "outcome": "" if is_open else rng.choice(list(models.OUTCOMES)),
                "updated_at": until,
            }
        )
        case_steps += [
            {"case": cid, "step": s.id, "status": "done" if s.position < position else "todo"}
            for s in steps
        ]
        span = max(1, int((until - opened).total_seconds() // 3600))
        n_visits = rng.randint(3, 10) if shape.name == "realistic" else 4
        for _ in range(n_visits):
            at = opened + dt.timedelta(hours=rng.randrange(span))
            vid = next_id("visit")
            visits.append(
                {
                    "id": vid,
                    "case": cid,
                    "mediator": mediator,
                    "contact_type": rng.choice(list(models.CONTACT_TYPES)),
                    "occurred_at": at,
                    "duration_minutes": rng.choice([15, 30, 45, 60]),
                    "planned": False,
                    "notes": "Kennismaking bij de cliënt thuis; vraag naar zwemles.",
                    "idempotency_key": uuid.uuid4().hex,
                    "created_at": at,
                }
            )
            audits += [
                {
                    "id": next_id("audit"),
                    "at": at,
                    "user": mediator,
                    "action": action,
                    "object_type": "case",
                    "object_id": cid,
                }
                for action in ("view", "view", "update")
            ]
        if is_open:
            visits.append(
                {
                    "id": next_id("visit"),
                    "case": cid,
                    "mediator": mediator,
                    "contact_type": "huisbezoek",
                    "occurred_at": now + dt.timedelta(hours=1 + rng.randrange(24 * 14)),
                    "duration_minutes": 60,
                    "planned": True,
                    "notes": "",
                    "idempotency_key": uuid.uuid4().hex,
                    "created_at": now,
                }
            )
        for _ in range(rng.randrange(3)):
            due = (until.date() if closed else today) + dt.timedelta(days=rng.randrange(-10, 10))
            tasks.append(
                {
                    "id": next_id("task"),
                    "case": cid,
                    "text": "Bellen over inschrijving",
                    "due": due,
                    "created_at": opened,
                    "done_at": None if is_open and rng.random() < 0.7 else until,
                }
            )
        for _ in range(rng.randrange(3)):
            thresholds.append(
                {
                    "case": cid,
                    "category": rng.choice(categories),
                    "status": rng.choice(["open", "resolved", "unsolvable"]),
                    "signal": rng.random() < 0.2,
                    "created_at": opened + dt.timedelta(days=rng.randrange(20)),
                }
            )
        if via_referral:
            rid = next_id("referral")
            referrals.append(
                {
                    "id": rid,
                    "organisation": rng.choice(organisations),
                    "reference": f"B-{rid:08d}",
                    "idempotency_key": uuid.uuid4().hex,
                    "referrer_name": "Ilse",
                    "first_name": clients[-1]["first_name"],
                    "last_name": clients[-1]["last_name"],
                    "status": "accepted",
                    "client": cid,
                    "case": cid,
                    "submitted_at": opened - DAY,
                    "handled_at": opened,
                    "handled_by": mediator,
                }
            )
        if rng.random() < 0.3:
            eid = next_id("enrolment")
            enrolments.append(
                {
                    "id": eid,
                    "case": cid,
                    "activity": rng.choice(activities),
                    "status": "active" if is_open else "stopped",
                    "created_at": opened + DAY,
                }
            )
            first = (now - dt.timedelta(days=14)) if is_open else opened + 7 * DAY
            for week in range(4):
                starts = first + dt.timedelta(days=7 * week)
                sid = next_id("session")
                sessions.append(
                    {
                        "id": sid,
                        "enrolment": eid,
                        "starts_at": starts,
                        "attendance": rng.choice(["present", "absent", ""]) if starts < now else "",
                    }
                )
                if is_open and abs((starts - now).total_seconds()) < 86400 * 2:
                    messages.append(
                        {
                            "kind": "session_reminder",
                            "channel": "sms",
                            "target": f"session:{sid}",
                            "due_on": starts.date(),
                            "case": cid,
                            "client": cid,
                            "session": sid,
                            "status": "sent",
                            "updated_at": now - dt.timedelta(minutes=rng.randrange(600)),
                        }
                    )
    for model, rows in [
        (models.Client, clients),
        (models.Case, cases),
        (models.CaseStep, case_steps),
        (models.Visit, visits),
        (models.Task, tasks),
        (models.CaseThreshold, thresholds),
        (models.Referral, referrals),
        (models.Enrolment, enrolments),
        (models.Session, sessions),
        (models.AuditEvent, audits),
        (models.Message, messages),
    ]:
        _bulk(model, rows)


# -- the databases -------------------------------------------------------------------------


def database_url(shape: str, size: int, postgres: str | None, keep: str | None) -> str:
    if postgres:
        base, _, _name = postgres.rpartition("/")
        return f"{base}/vrijbaan_bench_{shape}_{size}"
    folder = keep or tempfile.mkdtemp()
    Path(folder).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder}/bench-{shape}-{size}.sqlite"


def prepare_postgres(server_url: str, url: str, fresh: bool) -> bool:
    """Make the size's own database on the server (anew when `fresh`); True when it exists."""
    import psycopg

    name = url.rpartition("/")[2]
    connection = psycopg.connect(server_url, autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        exists = cursor.fetchone() is not None
        if exists and fresh:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return exists


def build(shape: str, size: int, postgres: str | None, keep: str | None) -> Flask:
    """The app on this size's database, built unless a kept one is complete."""
    url = database_url(shape, size, postgres, keep)
    if postgres:
        prepare_postgres(postgres, url, fresh=not keep)
    elif not keep and os.path.exists(url.removeprefix("sqlite:///")):
        os.remove(url.removeprefix("sqlite:///"))
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "SESSION_COOKIE_SECURE": False,
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )
    app.config["BENCH_DB"] = database.obj
    app.config["BENCH_URL"] = url
    try:
        create_tables()
    except MigrationError:  # a database kept from an older release
        started = time.perf_counter()
        upgrade()
        print(
            f"   upgraded {shape} {size} in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )
    with database.connection_context():
        complete = (
            models.ReferringOrganisation.select()
            .where(models.ReferringOrganisation.name == MARKER)
            .exists()
        )
    if not complete:
        if keep:  # a build that stopped halfway: start again
            if hasattr(database.obj, "close_idle"):
                database.obj.close_idle()
            if postgres:
                prepare_postgres(postgres, url, fresh=True)
            else:
                os.remove(url.removeprefix("sqlite:///"))
            database.initialize(open_database(url, app.instance_path))
            app.config["BENCH_DB"] = database.obj
            create_tables()
        started = time.perf_counter()
        with database.connection_context():
            fill(Shape(shape, size), random.Random(size))
            _reset_sequences()
            # The bulk inserts marked every row for the reports: count them all at once.
            models.recount()
        # Statistics and (PostgreSQL) the visibility map that index-only scans need, as
        # autovacuum keeps them on a database in use; VACUUM cannot run in a transaction.
        with database.connection_context():
            postgres = isinstance(database.obj, PostgresqlDatabase)
            database.execute_sql("VACUUM ANALYZE" if postgres else "ANALYZE")
        print(f"   built {shape} {size} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    app.test_client_class = BrowserLikeClient
    return app


def _reset_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows."""
    if not isinstance(database.obj, PostgresqlDatabase):
        return
    for model in models.ALL_MODELS:
        table = model._meta.table_name
        if model._meta.primary_key.name != "id":
            continue
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
        )


# -- the pages -----------------------------------------------------------------------------


class Visitor:
    """The logged-in clients of one size's app, and the ids its pages need."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        use(app)
        with database.connection_context():
            user = models.User.get(models.User.email == "m0@bench.test")
            self.mediator = user
            self.coordinator = models.User.get(models.User.email == "c@bench.test")
            # An open case with an activity where there is one, so that both sizes show the
            # same kind of case page (with its offer section: two queries more).
            open_cases = models.Case.select().where(
                models.Case.mediator == user, models.Case.status == "open"
            )
            case = (
                open_cases.join(models.Enrolment).order_by(models.Case.id).first()
                or open_cases.order_by(models.Case.id).first()
            )
            self.case_id, self.client_id = case.id, case.client_id
            organisation = (
                models.ReferringOrganisation.select()
                .order_by(models.ReferringOrganisation.id)
                .first()
            )
            _link, self.token = models.AccessLink.issue(
                "referral", dt.timedelta(days=30), None, organisation=organisation
            )
            self.organisation_id = organisation.id
            referral = models.Referral.select().order_by(models.Referral.id.desc()).first()
            self.referral_id = referral.id
            # The activity with the most enrolments over the years, and its provider's week.
            activity = (
                models.Activity.select(models.Activity.id, models.Activity.provider)
                .join(models.Enrolment)
                .group_by(models.Activity.id, models.Activity.provider)
                .order_by(fn.COUNT(models.Enrolment.id).desc())
                .first()
            )
            self.activity_id = activity.id
            _link, self.client_token = models.AccessLink.issue(
                "client", dt.timedelta(days=30), user, client=self.client_id
            )
            start = utcnow() - dt.timedelta(days=1)
            link, self.provider_token = models.AccessLink.issue(
                "provider",
                dt.timedelta(days=10),
                user,
                provider=activity.provider_id,
                period_start=start,
            )
            models.AccessLink.update(period_end=start + dt.timedelta(days=8)).where(
                models.AccessLink.id == link.id
            ).execute()
        self.clients = {}
        for role, who in (("mediator", self.mediator), ("coordinator", self.coordinator)):
            client = app.test_client()
            client.login(who)
            self.clients[role] = client
        self.clients["public"] = app.test_client()


def pages(v: Visitor) -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, who, path, headers) of every page measured."""
    fragment = {"HX-Request": "true"}
    return [
        ("Vandaag", "mediator", "/", {}),
        ("Caseload", "mediator", "/cases/", {}),
        ("Caseload search", "mediator", "/cases/?q=celik", {}),
        ("Case page", "mediator", f"/cases/{v.case_id}", {}),
        ("Record visit", "mediator", f"/cases/{v.case_id}/visits/new", {}),
        ("To-dos", "mediator", "/tasks/", {}),
        ("Activity search", "mediator", "/activities/?q=zwem", {}),
        ("Caseload p.2 (fragment)", "mediator", "/cases/?page=2", fragment),
        ("Reports, this year", "coordinator", "/reports/", {}),
        ("Team caseload", "coordinator", "/cases/?who=all", {}),
        ("Team caseload search", "coordinator", "/cases/?who=all&q=celik", {}),
        ("Intake", "coordinator", "/referrals/", {}),
        ("Messages list", "coordinator", "/messages/", {}),
        ("Audit trail", "coordinator", f"/cases/{v.case_id}/audit", {}),
        ("Access export", "coordinator", f"/privacy/clients/{v.client_id}/inzage", {}),
        ("Referrer's status list", "public", f"/r/{v.token}/opvolging", {}),
        # Pages the issue did not name, measured so that none grows unseen.
        ("New case", "mediator", "/cases/new", {}),
        ("Case thresholds", "mediator", f"/cases/{v.case_id}/thresholds/", {}),
        ("Choose activity", "mediator", f"/activities/cases/{v.case_id}/choose", {}),
        ("Offer", "mediator", "/activities/", {}),
        ("Activity", "mediator", f"/activities/{v.activity_id}", {}),
        ("Providers", "mediator", "/activities/providers", {}),
        ("Account", "mediator", "/account", {}),
        ("Assign", "coordinator", f"/cases/{v.case_id}/assign", {}),
        ("Referral", "coordinator", f"/referrals/{v.referral_id}", {}),
        ("Organisations", "coordinator", "/referrals/organisations", {}),
        ("Organisation", "coordinator", f"/referrals/organisations/{v.organisation_id}", {}),
        ("Signals", "coordinator", "/reports/signals", {}),
        ("Privacy due", "coordinator", "/privacy/te-wissen", {}),
        ("Privacy register", "coordinator", "/privacy/register", {}),
        ("Users", "coordinator", "/admin/users", {}),
        ("Security log", "coordinator", "/admin/security", {}),
        ("Walk-in hours", "coordinator", "/vraag/permanenties/", {}),
        ("Client's link", "public", f"/p/{v.client_token}", {}),
        ("Provider's week link", "public", f"/a/{v.provider_token}", {}),
    ]


def use(app: Flask) -> None:
    """Point the models at this app's database (one process serves every size)."""
    database.initialize(app.config["BENCH_DB"])


def timed_get(app: Flask, client: Any, path: str, headers: dict[str, str]) -> tuple[float, Any]:
    use(app)
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    body = response.get_data()
    return time.perf_counter() - start, (response.status_code, body)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


# -- the floor -----------------------------------------------------------------------------


def floor_app(url: str, size_bytes: int) -> Flask:
    """A bare Flask app: one query (the case and its client by id), a page of `size_bytes`."""
    app = Flask("floor")
    db = open_database(url, tempfile.mkdtemp())
    app.config["BENCH_DB"] = db
    template = (
        "<!doctype html><html lang=nl><head><title>Dossier</title></head><body><main>"
        "<h1>{{ row[1] }} {{ row[2] }}</h1>{% for i in range(n) %}<section><h2>Contact {{ i }}"
        "</h2><p>{{ row[3] }} · {{ row[4] }} · {{ row[0] }}</p></section>{% endfor %}"
        "</main></body></html>"
    )

    @app.before_request
    def connect() -> None:
        db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def close(_exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()

    @app.get("/case/<int:case_id>")
    def case(case_id: int) -> str:
        row = db.execute_sql(
            'SELECT c.id, l.first_name, l.last_name, c.status, c.opened_at FROM "cases" c '  # noqa: S608
            'JOIN "client" l ON l.id = c.client_id WHERE c.id = ' + db.param,
            (case_id,),
        ).fetchone()
        return render_template_string(template, row=row, n=n)

    with app.test_request_context():
        db.connect(reuse_if_open=True)
        row = (1, "Amina", "Çelik 1", "open", "2026-01-01 10:00:00")
        empty = len(render_template_string(template, row=row, n=0).encode())
        item = len(render_template_string(template, row=row, n=1).encode()) - empty
        db.close()
    n = max(1, (size_bytes - empty) // item)
    return app


# -- measuring -----------------------------------------------------------------------------


def measure_all(
    apps: dict[int, Flask], rounds: int, repeat: int, only: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[int, Visitor]]:
    sizes = sorted(apps)
    visitors = {size: Visitor(app) for size, app in apps.items()}
    page_list = pages(visitors[sizes[0]])
    if only:  # the case page stays: the floor is sized after it
        page_list = [p for p in page_list if p[0] == "Case page" or any(w in p[0] for w in only)]
    # The case page's size, for the floor.
    case_path = f"/cases/{visitors[sizes[-1]].case_id}"
    _t, (_s, case_body) = timed_get(
        apps[sizes[-1]], visitors[sizes[-1]].clients["mediator"], case_path, {}
    )
    floor = floor_app(apps[sizes[-1]].config["BENCH_URL"], len(case_body))
    floor_client = floor.test_client()
    results: list[dict[str, Any]] = []
    for index, (name, who, _first_path, headers) in enumerate(page_list):
        row: dict[str, Any] = {"page": name, "rounds": []}
        for size in sizes:  # size, queries and status, once (not timed)
            v = visitors[size]
            path = _path(v, page_list[index][0])
            use(apps[size])
            with count_queries() as statements:
                response = v.clients[who].get(path, headers=headers)
            body = response.get_data()
            row[size] = {
                "status": response.status_code,
                "kb": len(gzip.compress(body)) / 1024,
                "queries": len(statements),
            }
        results.append(row)
    floor_row: dict[str, Any] = {"page": "floor (bare Flask, 1 query)", "rounds": []}
    results.append(floor_row)
    for _round in range(rounds):
        for index, (_name, who, _first_path, headers) in enumerate(page_list):
            times: dict[int, list[float]] = {size: [] for size in sizes}
            for _ in range(repeat):
                for size in sizes:  # interleaved
                    v = visitors[size]
                    path = _path(v, page_list[index][0])
                    elapsed, _r = timed_get(apps[size], v.clients[who], path, headers)
                    times[size].append(elapsed)
            results[index]["rounds"].append(times)
        floor_times: list[float] = []
        for _ in range(repeat * len(sizes)):
            elapsed, _r = timed_get(floor, floor_client, f"/case/{visitors[sizes[-1]].case_id}", {})
            floor_times.append(elapsed)
        floor_row["rounds"].append({0: floor_times})
    return results, visitors


def _path(visitor: Visitor, name: str) -> str:
    """The path of a page (by name) for this size's ids."""
    return next(p[2] for p in pages(visitor) if p[0] == name)


def report(results: list[dict[str, Any]], sizes: list[int], engine: str, shape: str) -> str:
    small, large = sizes[0], sizes[-1]
    lines = [
        f"### {engine}, shape {shape}: {small} vs {large} cases",
        "",
        (
            f"| page | p50 {small} (ms) | p95 {small} | p50 {large} | p95 {large} "
            f"| p95 ratio (spread) | gz KB {small} → {large} | queries |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    floor_p50 = statistics.median(percentile(r[0], 0.5) for r in results[-1]["rounds"])
    case_p50 = None
    for row in results[:-1]:
        p50 = {s: statistics.median(percentile(r[s], 0.5) for r in row["rounds"]) for s in sizes}
        p95 = {s: statistics.median(percentile(r[s], 0.95) for r in row["rounds"]) for s in sizes}
        ratios = [percentile(r[large], 0.95) / percentile(r[small], 0.95) for r in row["rounds"]]
        status = "" if row[large]["status"] == 200 else f" ({row[large]['status']})"
        if row["page"] == "Case page":
            case_p50 = {s: p50[s] for s in sizes}
        lines.append(
            f"| {row['page']}{status} | {p50[small] * 1000:.1f} | {p95[small] * 1000:.1f} "
            f"| {p50[large] * 1000:.1f} | {p95[large] * 1000:.1f} "
            f"| **{statistics.median(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f}) "
            f"| {row[small]['kb']:.1f} → {row[large]['kb']:.1f} "
            f"| {row[small]['queries']} → {row[large]['queries']} |"
        )
    lines.append(f"| floor (bare Flask, 1 query) | | | {floor_p50 * 1000:.1f} | | | | 1 |")
    if case_p50:
        lines += [
            "",
            (
                f"Case page p50 ÷ floor p50: {case_p50[small] / floor_p50:.1f}× at {small}, "
                f"{case_p50[large] / floor_p50:.1f}× at {large}."
            ),
        ]
    return "\n".join(lines)


# -- gunicorn throughput ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(module_code: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, str]:
    port = _free_port()
    folder = tempfile.mkdtemp()
    Path(folder, "benchapp.py").write_text(module_code)
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [*command, "--no-control-socket", "--chdir", folder, "benchapp:app"],
        env={**os.environ, **env, "PYTHONPATH": f"{ROOT}:{folder}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:  # not up yet
            time.sleep(0.1)
    return process, port, folder


def throughput(port: int, path: str, cookie: str, seconds: float, threads: int = 8) -> float:
    """Requests per second from `threads` clients, each with a kept-alive connection."""
    import http.client

    done = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        while time.perf_counter() < stop:
            connection.request("GET", path, headers={"Cookie": cookie, "Host": "localhost"})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                done[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


def gunicorn_mode(app: Flask, visitor: Visitor, case_bytes: int, seconds: float) -> str:
    url = app.config["BENCH_URL"]
    client = visitor.clients["mediator"]
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "http://localhost",
           "VRIJBAAN_INSECURE_COOKIES": "1"}  # fmt: skip
    real = "from webapp import create_app\napp = create_app()\n"
    floor = (
        "import sys\nsys.argv = ['x']\nfrom tests.bench.pages import floor_app\n"
        f"app = floor_app({url!r}, {case_bytes})\napp.get('/healthz')(lambda: 'ok')\n"
    )
    out = []
    for name, code, path in (
        ("case page", real, f"/cases/{visitor.case_id}"),
        ("floor", floor, f"/case/{visitor.case_id}"),
    ):
        process, port, _folder = _serve(code, env)
        try:
            throughput(port, path, cookie, 1.0)  # warm up
            out.append((name, throughput(port, path, cookie, seconds)))
        finally:
            process.terminate()
            process.wait()
    (n1, r1), (n2, r2) = out
    return (
        f"gunicorn, 2 workers, 8 client threads, {seconds:.0f} s: {n1} {r1:.0f} req/s, "
        f"{n2} {r2:.0f} req/s: {r1 / r2:.2f}× the floor's throughput."
    )


# -- plans -------------------------------------------------------------------------------


def explain(sql: str, params: list[Any]) -> Iterator[str]:
    postgres = isinstance(database.obj, PostgresqlDatabase)
    prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
    for row in database.execute_sql(prefix + sql, params).fetchall():
        yield "    " + " ".join(str(c) for c in row)


def show_plans(app: Flask) -> None:
    """The plans of the team caseload's search, of the intake's late list, and of each query
    of the report page."""
    from webapp.reports import figures

    use(app)
    with app.test_request_context(), database.connection_context():
        coordinator = models.User.get(models.User.email == "c@bench.test")
        query = models.Case.caseload(coordinator, q="celik").limit(26)
        print("-- team caseload searched for 'celik'")
        print("\n".join(explain(*query.sql())))
        late = models.Referral.select(models.Referral.id).where(
            models.Referral.case.in_(
                models.Case.select(models.Case.id)
                .where(
                    models.Case.status == "open",
                    models.Case.waiting_since < utcnow() - models.FIRST_CONTACT_TERM,
                )
                .order_by(models.Case.waiting_since)
                .limit(50)
            )
        )
        print("-- intake: the open cases waiting longest for a first contact")
        print("\n".join(explain(*late.sql())))
        today = local_today()
        period = figures.Period.whole_months(today.replace(month=1, day=1), today)
        statements: list[tuple[str, Any]] = []
        original = database.obj.execute_sql

        def recording(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            statements.append((sql, params))
            return original(sql, params, *args, **kwargs)

        database.obj.execute_sql = recording
        try:
            figures.all_tables(period, today, models.DISTRICTS)
        finally:
            del database.obj.execute_sql
        for sql, params in statements:
            start = time.perf_counter()
            database.execute_sql(sql, params).fetchall()
            took = (time.perf_counter() - start) * 1000
            print(f"-- {took:.1f} ms: {sql[:150]}")
            print("\n".join(explain(sql, params or [])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shape", choices=["realistic", "stress"], default="realistic")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--postgres", help="a PostgreSQL server URL (databases are created)")
    parser.add_argument("--keep", help="a folder to keep (and reuse) the built databases in")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20, help="requests per page, size, round")
    parser.add_argument("--plans", action="store_true", help="print the slow queries' plans")
    parser.add_argument("--gunicorn", type=float, metavar="SECONDS", help="throughput mode")
    parser.add_argument("--only", nargs="+", help="only the pages whose name holds these words")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    apps = {size: build(args.shape, size, args.postgres, args.keep) for size in sizes}
    if args.plans:
        for size in sizes:
            print(f"\n== plans at {size} cases")
            show_plans(apps[size])
    results, visitors = measure_all(apps, args.rounds, args.repeat, args.only)
    engine = "PostgreSQL" if args.postgres else "SQLite"
    print(report(results, sizes, engine, args.shape))
    if args.gunicorn:
        v = visitors[sizes[-1]]
        path = f"/cases/{v.case_id}"
        _t, (_s, body) = timed_get(apps[sizes[-1]], v.clients["mediator"], path, {})
        print()
        print(gunicorn_mode(apps[sizes[-1]], v, len(body), args.gunicorn))


if __name__ == "__main__":
    main()
