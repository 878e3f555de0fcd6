"""Benchmark: HTML size (gzipped), SQL queries and time of the mediator pages on a large data set.

    python tests/bench/pages.py [--cases 1000 10000] [--postgres URL]

Builds a fresh database per size (SQLite in a temp folder by default), fills it with realistic
bulk data, then requests each page through the WSGI app as a logged-in mediator and coordinator.
It reports figures; it asserts nothing (budgets: DESIGN.md §6).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from werkzeug.security import generate_password_hash

from tests.conftest import PASSWORD, BrowserLikeClient, count_queries
from webapp import create_app, models
from webapp.db import database
from webapp.migrations import create_tables
from webapp.timeutil import local_today, utcnow

FIRST = ["Amina", "Youssef", "Elif", "Mehmet", "Kasia", "Ioana", "Mariam", "Ahmad", "Sofie", "Luca"]
FIRST += ["Ayşe", "Lucía", "Łukasz", "Ionuț"]
LAST = ["Bouzid", "El Idrissi", "Yilmaz", "Kowalska", "Popescu", "Haidari", "Peeters", "Mohamed"]
LAST += ["Çelik", "Wiśniewska", "Nguyễn", "Bogdănescu"]
# Searches as typed on a phone (issue 9): no accents, part of a name, a phone number.
SEARCHES = [
    ("Search 'celik'", "/cases/?q=celik"),
    ("Search 'ayse celik'", "/cases/?q=ayse+celik"),
    ("Search 'ays'", "/cases/?q=ays"),
    ("Search phone +32", "/cases/?q=%2B32+470+12+34+56"),
]
CHUNK = 500


def fill(n_cases: int, rng: random.Random) -> tuple[models.User, models.User, int]:
    """Bulk-insert n_cases cases over 10 mediators; returns a mediator, coordinator, case id."""
    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    users = [
        models.User.create(
            email=f"m{i}@bench.test", name=f"Bemiddelaar {i}", role="mediator", password_hash=cheap
        )
        for i in range(10)
    ]
    coordinator = models.User.create(
        email="c@bench.test", name="Coördinator", role="coordinator", password_hash=cheap
    )
    steps = list(models.StepDefinition.ordered())
    now = utcnow()
    for start in range(0, n_cases, CHUNK):
        size = min(CHUNK, n_cases - start)
        with database.atomic():
            client_rows = [
                {
                    "first_name": rng.choice(FIRST),
                    "last_name": f"{rng.choice(LAST)} {start + i}",
                    "birth_date": dt.date(
                        1950 + rng.randrange(65), 1 + rng.randrange(12), 1 + rng.randrange(28)
                    ),
                    "phone": f"04{rng.randrange(10**8):08d}" if i else "+32 470 12 34 56",
                    "district": rng.choice(models.DISTRICTS),
                }
                for i in range(size)
            ]
            models.Client.insert_many(client_rows).execute()
            client_ids = _ids(models.Client, size)
            case_rows = [
                {
                    "client": cid,
                    "mediator": users[i % len(users)].id,
                    "current_position": 1 + rng.randrange(9),
                    "opened_at": now - dt.timedelta(days=rng.randrange(400)),
                    "updated_at": now - dt.timedelta(minutes=rng.randrange(100_000)),
                }
                for i, cid in enumerate(client_ids)
            ]
            models.Case.insert_many(case_rows).execute()
            case_ids = _ids(models.Case, size)
            models.CaseStep.insert_many(
                [
                    {"case": cid, "step": s.id, "status": "done" if s.position < 3 else "todo"}
                    for cid in case_ids
                    for s in steps
                ]
            ).execute()
            visits = [
                {
                    "case": cid,
                    "mediator": users[0].id,
                    "contact_type": rng.choice(list(models.CONTACT_TYPES)),
                    "occurred_at": now - dt.timedelta(hours=rng.randrange(2000)),
                    "duration_minutes": 30,
                    "notes": "Kennismaking bij de cliënt thuis; vraag naar zwemles.",
                    "idempotency_key": uuid.uuid4().hex,
                }
                for cid in case_ids
                for _ in range(4)
            ]
            models.Visit.insert_many(visits).execute()
            models.Task.insert_many(
                [
                    {
                        "case": cid,
                        "text": "Bellen over inschrijving",
                        "due": local_today() + dt.timedelta(days=rng.randrange(-10, 10)),
                    }
                    for cid in case_ids
                    if rng.random() < 0.6
                ]
            ).execute()
            # A year of looking and changing: a view and a recorded contact per visit.
            models.AuditEvent.insert_many(
                [
                    {
                        "at": visit["occurred_at"],
                        "user": visit["mediator"],
                        "action": action,
                        "object_type": "case",
                        "object_id": visit["case"],
                    }
                    for visit in visits
                    for action in ("view", "view", "update")
                ]
            ).execute()
    some_case = models.Case.select().where(models.Case.mediator == users[0]).first()
    for i in range(30):
        models.CaseEvent.create(case=some_case, actor=users[0], kind="visit", detail=f"contact {i}")
    return users[0], coordinator, some_case.id


def _ids(model: Any, size: int) -> list[int]:
    """The ids just inserted (the newest `size` rows)."""
    rows = model.select(model.id).order_by(model.id.desc()).limit(size)
    return sorted(r.id for r in rows)


def measure(
    client: BrowserLikeClient, url: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    times, size, queries, status = [], 0, 0, 0
    for _ in range(5):
        with count_queries() as statements:
            start = time.perf_counter()
            response = client.get(url, headers=headers or {})
            times.append(time.perf_counter() - start)
        body = response.get_data()
        size, queries, status = len(gzip.compress(body)), len(statements), response.status_code
    return {
        "status": status,
        "gzip_kb": size / 1024,
        "queries": queries,
        "ms": statistics.median(times) * 1000,
    }


def show_plans(coordinator: models.User, postgres: bool) -> None:
    """Print the plan of the team's caseload searched for 'celik' (the widest search)."""
    query = models.Case.caseload(coordinator, q="celik").limit(26)
    sql, params = query.sql()
    explain = "EXPLAIN (ANALYZE, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
    print(f"-- plan of the team caseload searched for 'celik'\n{sql}")
    for row in database.execute_sql(explain + sql, params).fetchall():
        print("   ", " ".join(str(c) for c in row))


def run(
    n_cases: int, postgres: str | None, plans: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    folder = tempfile.mkdtemp()
    url = postgres or f"sqlite:///{folder}/bench.sqlite"
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "SESSION_COOKIE_SECURE": False,
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )
    if postgres:
        with database.connection_context():
            database.drop_tables(list(reversed(models.ALL_MODELS)), safe=True, cascade=True)
    create_tables()
    with database.connection_context():
        mediator, coordinator, case_id = fill(n_cases, random.Random(1))
        # Statistics, as PostgreSQL's autovacuum keeps them after a bulk load (plans need them).
        database.execute_sql("ANALYZE")
    app.test_client_class = BrowserLikeClient
    if plans:
        with app.test_request_context(), database.connection_context():
            show_plans(coordinator, postgres is not None)
    results = []
    for who in (mediator, coordinator):
        client = app.test_client()
        client.login(who)
        for name, path in [
            ("Vandaag", "/"),
            ("Caseload", "/cases/"),
            ("Caseload search", "/cases/?q=Amina"),
            ("Case page", f"/cases/{case_id}"),
            ("Reports", "/reports/"),
            ("Activities", "/activities/"),
            *SEARCHES,
        ]:
            results.append((f"{who.role:<11} {name}", measure(client, path)))
        if who.is_coordinator:
            results.append(
                (f"{who.role:<11} Audit trail", measure(client, f"/cases/{case_id}/audit"))
            )
            results.append((f"{who.role:<11} Caseload, team", measure(client, "/cases/?who=all")))
            for name, path in SEARCHES:
                results.append((f"{who.role:<11} team {name}", measure(client, f"{path}&who=all")))
            results.append(
                (
                    f"{who.role:<11} Caseload, team p.3",
                    measure(client, "/cases/?who=all&page=3", {"HX-Request": "true"}),
                )
            )
        results.append(
            (
                f"{who.role:<11} Caseload fragment",
                measure(client, "/cases/?q=a", {"HX-Request": "true"}),
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, nargs="+", default=[100, 5000])
    parser.add_argument(
        "--postgres", help="a PostgreSQL URL to a scratch database (tables are dropped)"
    )
    parser.add_argument("--plans", action="store_true", help="print the search's query plan")
    args = parser.parse_args()
    for n in args.cases:
        print(f"\n== {n} cases ({'PostgreSQL' if args.postgres else 'SQLite'})")
        print(f"{'page':<32} {'status':>6} {'gzip KB':>8} {'queries':>8} {'median ms':>10}")
        for name, r in run(n, args.postgres, args.plans):
            print(
                f"{name:<32} {r['status']:>6} {r['gzip_kb']:>8.1f} {r['queries']:>8} "
                f"{r['ms']:>10.1f}"
            )


if __name__ == "__main__":
    main()
