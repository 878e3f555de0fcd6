"""Retention: what is past its term is erased by `apply-retention` (the figures keep counting),
nothing else; twice at once without harm; and the coordinator's "Te wissen" list."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from tests.conftest import HTMX, in_db, make_case, make_client
from tests.test_privacy import SECRETS, closed_case, counts, everything_in_the_database
from tests.test_referrals import make_organisation
from webapp import models
from webapp.db import database
from webapp.models.privacy import apply_retention, clients_due, months_before
from webapp.timeutil import utcnow

__all__ = ["closed_case"]  # the fixture, used by name

NOW = utcnow()


def closed(case: models.Case, at: dt.datetime, by: models.User) -> None:
    with database.connection_context():
        models.Case.get_by_id(case.id).close("independent", "", "", by)
        models.Case.update(closed_at=at).where(models.Case.id == case.id).execute()


@pytest.fixture
def world(client, mediator, coordinator, closed_case):  # type: ignore[no-untyped-def]
    """Every table holds rows: one client past its term, the others not (yet), and the short-
    lived rows (links, sessions, throttles, security log) both old and fresh."""
    with database.connection_context():
        models.Case.update(closed_at=months_before(NOW, 25)).where(
            models.Case.id == closed_case["case"].id
        ).execute()
    # A client with a similar name, closed 20 months ago: 4 months to go.
    later = make_case(mediator, make_client(first_name="Zoubeida", last_name="Haddou"))
    closed(later, months_before(NOW, 20), mediator)
    # Closed 24 months minus 10 days ago: on the "Te wissen" list, not yet erased.
    soon = make_case(mediator, make_client(first_name="Fatma", last_name="Yilmaz"))
    closed(soon, months_before(NOW, 24) + dt.timedelta(days=10), mediator)
    # Past its term, but a coordinator keeps it 6 more months.
    held = make_case(mediator, make_client(first_name="Ivan", last_name="Petrenko"))
    closed(held, months_before(NOW, 30), mediator)
    still_open = make_case(mediator, make_client(first_name="Ana", last_name="Popescu"))
    with database.connection_context():
        models.Case.update(opened_at=months_before(NOW, 40)).where(
            models.Case.id == still_open.id
        ).execute()
        models.RetentionHold.create(
            case=held, until=NOW + dt.timedelta(days=90), reason="Klacht loopt", user=coordinator
        )
        organisation = make_organisation()
        for number, (status, age, name) in enumerate(
            [
                ("declined", 7, "Oud Afgewezen"),
                ("new", 8, "Nooit Aanvaard"),
                ("new", 1, "Vers Gemeld"),
            ]
        ):
            models.Referral.create(
                organisation=organisation,
                reference=f"VB-RET-{number}",
                idempotency_key=f"retention-{number}",
                referrer_name="Lien Claes",
                first_name=name.split()[0],
                last_name=name.split()[1],
                birth_date=dt.date(2010, 5, 17),
                question=f"Vraag van {name}",
                status=status,
                submitted_at=months_before(NOW, age),
                handled_at=months_before(NOW, age) if status == "declined" else None,
            )
        old_link, _ = models.AccessLink.issue(
            "client", dt.timedelta(days=1), coordinator, client=later.client_id
        )
        models.AccessLink.update(
            created_at=months_before(NOW, 5), expires_at=months_before(NOW, 4)
        ).where(models.AccessLink.id == old_link.id).execute()
        # A link still in use stays.
        models.AccessLink.issue("client", dt.timedelta(days=30), coordinator, client=soon.client_id)
        models.Throttle.create(key="old", count=3, window_start=NOW - dt.timedelta(days=2))
        models.Throttle.create(key="fresh", count=1, window_start=NOW)
        models.LoginSession.create(
            user=mediator,
            key_hash="dead",
            created_at=NOW - dt.timedelta(days=2),
            last_seen_at=NOW - dt.timedelta(days=2),
        )
        models.SecurityEvent.create(kind="login-failed", at=months_before(NOW, 13))
        models.SecurityEvent.create(kind="login-failed", at=NOW)
        models.RecoveryCode.create(user=coordinator, code_hash="x" * 64)
        models.TeamSetting.create(key="retention-test", value="1")
        # Walk-in hours name a place, never a person: they stay.
        models.WalkInHours.create(
            place="Sociaal Huis", address="Kiel", weekday=2, starts=dt.time(13), ends=dt.time(16)
        )
        # A message row holds no text or address: it stays, like the audit trail.
        models.Message.create(
            kind="client_session",
            channel="sms",
            target="retention-test",
            due_on=NOW.date(),
            case=closed_case["case"].id,
            client=closed_case["case"].client_id,
            status="sent",
        )
    return {"later": later, "soon": soon, "held": held, "open": still_open, **closed_case}


def names() -> set[str]:
    with database.connection_context():
        return {c.full_name for c in models.Client.select()}


def test_only_what_is_past_its_term_is_erased(world, coordinator) -> None:
    empty = [name for name, count in counts().items() if count == 0]
    assert empty == [], f"fill every table: {empty}"
    assert all(secret in everything_in_the_database() for secret in SECRETS)
    before = counts()
    done = in_db(apply_retention)
    assert done == {
        "clients": 1,
        "referrals": 2,
        "links": 1,
        "sessions": 1,
        "throttles": 1,
        "security_log": 1,
    }
    after = everything_in_the_database()
    assert [secret for secret in SECRETS if secret in after] == []
    erased = world["client"].id
    assert names() == {
        f"Anoniem {erased}",
        "Zoubeida Haddou",
        "Fatma Yilmaz",
        "Ivan Petrenko",
        "Ana Popescu",
    }
    assert "Klacht loopt" in after  # the held case keeps its reason
    assert "Vers" in after and "Oud" not in after and "Nooit" not in after
    assert "Vraag van Vers" in after and "Vraag van Oud" not in after
    # The records stay, the figures count them; only what is meant to go is gone.
    assert counts() == {
        **before,
        # The expired one, and the erased client's two (as erasing on request does).
        "AccessLink": before["AccessLink"] - 3,
        "LoginSession": before["LoginSession"] - 1,
        "ClosedClient": before["ClosedClient"] - 1,  # the erased client waits for no term
        "Throttle": before["Throttle"] - 1,
        "SecurityEvent": before["SecurityEvent"] - 1,
        "AuditEvent": before["AuditEvent"] + 1,
    }
    # Run again: nothing left to do.
    assert set(in_db(apply_retention).values()) == {0}
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1


def test_with_the_clock_moved_forward_the_rest_follows(world) -> None:
    in_db(apply_retention)
    done = in_db(lambda: apply_retention(months_before(NOW, -5)))
    # Zoubeida (20 + 5 months), Fatma, and Ivan whose hold ended; never the open case.
    assert done["clients"] == 3
    assert {n for n in names() if not n.startswith("Anoniem")} == {"Ana Popescu"}
    assert "Klacht loopt" not in everything_in_the_database()


def test_the_reports_keep_counting(client, coordinator, world) -> None:
    client.login(coordinator)
    before = client.get("/reports/").get_data(as_text=True)
    in_db(lambda: apply_retention(months_before(NOW, -12)))
    assert {n for n in names() if not n.startswith("Anoniem")} == {"Ana Popescu"}
    client.login(coordinator)  # the clock moved a year: the login ended
    after = client.get("/reports/").get_data(as_text=True)
    main = slice(after.index("<main"), after.index("</main>"))
    assert "<td" in after[main] and before[main] == after[main]


def test_two_runs_at_once_erase_each_client_once(world) -> None:
    later = months_before(NOW, -12)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with database.connection_context():
                start.wait()
                results.append(apply_retention(later))
        except BaseException as error:  # noqa: BLE001  (reported in the test's own thread)
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r["clients"] for r in results) == 4
    assert sum(r["referrals"] for r in results) == 3
    with database.connection_context():
        erasures = models.AuditEvent.select().where(models.AuditEvent.action == "retention")
        assert erasures.count() == 4
    assert {n for n in names() if not n.startswith("Anoniem")} == {"Ana Popescu"}


def test_the_command_prints_counts_without_names(runner, world) -> None:
    result = runner.invoke(args=["apply-retention"])
    assert result.exit_code == 0, result.output
    assert "clients: 1" in result.output and "referrals: 2" in result.output
    assert "Zoubida" not in result.output and "Haddouchi" not in result.output
    again = runner.invoke(args=["apply-retention"])
    assert "clients: 0" in again.output


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_list_shows_what_reaches_its_term_within_30_days(
    client, coordinator, world, headers
) -> None:
    client.login(coordinator)
    response = client.get("/privacy/te-wissen", headers=headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("<html" in page) is (headers == {})
    assert "Zoubida Haddouchi" in page and "Fatma Yilmaz" in page
    assert "Zoubeida" not in page and "Ivan" not in page and "Ana Popescu" not in page
    assert page.index("Zoubida Haddouchi") < page.index("Fatma Yilmaz")  # soonest first
    assert f'action="/privacy/te-wissen/{world["soon"].id}/bewaren"' in page


def test_keep_six_months_longer_with_a_reason(client, coordinator, world) -> None:
    client.login(coordinator)
    soon = world["soon"]
    missing = client.post(f"/privacy/te-wissen/{soon.id}/bewaren", data={"reason": " "})
    assert missing.status_code == 422
    page = missing.get_data(as_text=True)
    assert f'id="reason-{soon.id}-error"' in page and "Schrijf waarom" in page
    response = client.post(
        f"/privacy/te-wissen/{soon.id}/bewaren", data={"reason": "Vraagt een attest"}
    )
    assert response.status_code == 303
    listed = client.get("/privacy/te-wissen").get_data(as_text=True)
    assert "Fatma Yilmaz" not in listed and "Zoubida Haddouchi" in listed
    trail = client.get(f"/cases/{soon.id}/audit").get_data(as_text=True)
    assert "stelde het wissen 6 maanden uit" in trail
    in_db(lambda: apply_retention(months_before(NOW, -1)))
    assert "Fatma Yilmaz" in names()
    client.login(coordinator)
    trail = client.get(f"/cases/{world['case'].id}/audit").get_data(as_text=True)
    assert "Vrijbaan zelf" in trail and "bewaartermijn was voorbij" in trail


def test_erase_now_asks_for_the_password_again(client, coordinator, world) -> None:
    client.login(coordinator)
    soon = world["soon"]
    with database.connection_context():
        models.LoginSession.update(verified_at=NOW - dt.timedelta(hours=1)).execute()
    asked = client.post(f"/privacy/te-wissen/{soon.id}/wissen", data={})
    assert asked.status_code == 200 and 'type="password"' in asked.get_data(as_text=True)
    assert "Fatma Yilmaz" in names()
    with database.connection_context():
        models.LoginSession.update(verified_at=utcnow()).execute()
    done = client.post(f"/privacy/te-wissen/{soon.id}/wissen", data={})
    assert done.status_code == 303
    assert "Fatma Yilmaz" not in names()
    assert client.post(f"/privacy/te-wissen/{world['open'].id}/wissen").status_code == 409
    assert client.post("/privacy/te-wissen/999999/wissen").status_code == 404


def test_a_mediator_sees_no_list(client, mediator, world) -> None:
    client.login(mediator)
    assert client.get("/privacy/te-wissen").status_code == 403
    soon = world["soon"]
    assert client.post(f"/privacy/te-wissen/{soon.id}/wissen").status_code == 403
    assert (
        client.post(f"/privacy/te-wissen/{soon.id}/bewaren", data={"reason": "x"}).status_code
        == 403
    )
    assert "Fatma Yilmaz" in names()


def test_clients_due_is_one_query(world) -> None:
    from tests.conftest import count_queries

    with database.connection_context(), count_queries() as queries:
        clients_due(NOW, dt.timedelta(days=30))
    assert len(queries) == 1


# --- Where the list starts: the clients whose cases are all closed ---------------------------


def closed_clients() -> dict[int, dt.datetime]:
    """closed_client as it is."""
    return {r.client_id: r.closed_at for r in models.ClosedClient.select()}


def closed_clients_expected() -> dict[int, dt.datetime]:
    """closed_client as it should be, recounted in Python from the cases and clients."""
    cases: dict[int, list[models.Case]] = {}
    for case in models.Case.select(models.Case, models.Client).join(models.Client):
        cases.setdefault(case.client_id, []).append(case)
    return {
        client_id: max(c.closed_at for c in own)
        for client_id, own in cases.items()
        if not own[0].client.is_anonymised
        and all(c.status == "closed" and c.closed_at for c in own)
    }


def test_the_closed_clients_follow_every_change(mediator, coordinator) -> None:
    ayse, amina = make_client(first_name="Ayşe"), make_client(first_name="Amina")
    first = make_case(mediator, ayse)

    def check() -> dict[int, dt.datetime]:
        rows = in_db(closed_clients)
        assert rows == in_db(closed_clients_expected)
        return rows

    assert ayse.id not in check()  # an open case
    closed(first, months_before(NOW, 30), mediator)
    assert check()[ayse.id] == months_before(NOW, 30)
    second = make_case(mediator, ayse)  # back for a new question
    assert ayse.id not in check()
    closed(second, months_before(NOW, 2), mediator)
    assert check()[ayse.id] == months_before(NOW, 2)  # the last closing counts
    in_db(lambda: models.Case.get_by_id(second.id).reopen(coordinator))
    assert ayse.id not in check()
    # The open case moved to another client (a duplicate merged): Ayşe's are all closed.
    with database.connection_context():
        models.Case.update(client=amina.id).where(models.Case.id == second.id).execute()
    rows = check()
    assert rows[ayse.id] == months_before(NOW, 30) and amina.id not in rows
    in_db(lambda: models.anonymise_client(models.Client.get_by_id(ayse.id), coordinator))
    assert ayse.id not in check()  # erased: no term to wait for
    with database.connection_context():
        models.Case.delete().where(models.Case.id == second.id).execute()
    assert amina.id not in check()  # no case at all


def test_init_db_repairs_the_closed_clients(mediator) -> None:
    from webapp.migrations import create_tables

    cases = [make_case(mediator, make_client(first_name=f"Elif{i}")) for i in range(3)]
    for case in cases:
        closed(case, months_before(NOW, 30), mediator)
    with database.connection_context():
        models.ClosedClient.delete().where(
            models.ClosedClient.client == cases[0].client_id
        ).execute()
        models.ClosedClient.update(closed_at=NOW).where(
            models.ClosedClient.client == cases[1].client_id
        ).execute()
        models.ClosedClient.insert(client=make_client().id, closed_at=NOW).execute()
    assert in_db(closed_clients) != in_db(closed_clients_expected)
    create_tables()
    assert in_db(closed_clients) == in_db(closed_clients_expected)
    assert {d.client_id for d in in_db(lambda: clients_due(NOW))} == {c.client_id for c in cases}


def test_a_long_list_shows_a_page_at_a_time(client, mediator, coordinator) -> None:
    from webapp.privacy import DUE_PAGE_SIZE

    n = DUE_PAGE_SIZE + 3
    cases = [make_case(mediator, make_client(first_name=f"Elif{i:02}")) for i in range(n)]
    for i, case in enumerate(cases):  # the oldest closing first
        closed(case, months_before(NOW, 30) + dt.timedelta(days=i), mediator)
    client.login(coordinator)
    page = client.get("/privacy/te-wissen").get_data(as_text=True)
    assert page.count('class="item"') == DUE_PAGE_SIZE
    assert "Elif00" in page and f"Elif{DUE_PAGE_SIZE - 1:02}" in page
    assert f"Elif{DUE_PAGE_SIZE:02}" not in page
    assert 'href="/privacy/te-wissen?page=2"' in page
    more = client.get("/privacy/te-wissen?page=2").get_data(as_text=True)
    assert more.count('class="item"') == n and "?page=3" not in more
    # A reason left out on the second page: the error shows there, with the page's rows.
    last = cases[-1]
    missing = client.post(f"/privacy/te-wissen/{last.id}/bewaren?page=2", data={"reason": ""})
    assert missing.status_code == 422
    shown = missing.get_data(as_text=True)
    assert f'id="reason-{last.id}-error"' in shown and shown.count('class="item"') == n


def test_two_cases_of_a_client_closed_at_once_leave_the_client_closed(
    database_url, mediator
) -> None:
    # Each closing recounts the client's cases; run side by side, each would see the other
    # case still open and neither would write the row: the client would never be erased.
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time")
    import psycopg

    client = make_client(first_name="Nadia")
    first, second = make_case(mediator, client), make_case(mediator, client)
    close = "UPDATE cases SET status = 'closed', closed_at = now() WHERE id = %s"
    with psycopg.connect(database_url) as one, psycopg.connect(database_url) as other:
        one.execute(close, (first.id,))  # a transaction, not committed yet
        thread = threading.Thread(
            target=lambda: (other.execute(close, (second.id,)), other.commit())
        )
        thread.start()
        thread.join(timeout=1)
        waited = thread.is_alive()
        one.commit()
        thread.join(timeout=10)
    assert client.id in in_db(closed_clients)
    assert in_db(closed_clients) == in_db(closed_clients_expected)
    assert waited  # the second recount waited for the first closing
