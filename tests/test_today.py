"""Vandaag: planned contacts, to-dos due, recent cases; mine or the team's; constant cost."""

from __future__ import annotations

import datetime as dt
import gzip
import uuid

import pytest

from tests.conftest import HTMX, count_queries, in_db, make_case, make_client, make_task
from webapp import models
from webapp.db import database
from webapp.timeutil import local_today, to_utc, utcnow


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return to_utc(dt.datetime.combine(day, dt.time(hour, minute)))


def add_visit(case: models.Case, **fields: object) -> models.Visit:
    values: dict[str, object] = {
        "case": case.id,
        "mediator": case.mediator_id,
        "contact_type": "huisbezoek",
        "occurred_at": utcnow() - dt.timedelta(days=1),
        "duration_minutes": 30,
        "idempotency_key": str(uuid.uuid4()),
    }
    values.update(fields)
    return in_db(lambda: models.Visit.create(**values))


@pytest.fixture
def day() -> dt.date:
    return local_today()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_a_mediator_sees_their_day(client, mediator, other_mediator, day, headers) -> None:
    amina = make_case(mediator)
    youssef = make_case(mediator, make_client(first_name="Youssef", last_name="El Idrissi"))
    elif_ = make_case(other_mediator, make_client(first_name="Elif", last_name="Yilmaz"))
    add_visit(
        amina, planned=True, occurred_at=at_local(day, 23, 30), place="Sociaal centrum Deurne"
    )
    add_visit(
        youssef,
        planned=True,
        occurred_at=at_local(day + dt.timedelta(days=1), 0, 15),
        contact_type="telefonisch",
    )
    add_visit(
        amina,
        planned=True,
        occurred_at=at_local(day + dt.timedelta(days=2), 10),
        place="Overmorgen-plek",
    )
    add_visit(elif_, planned=True, occurred_at=at_local(day, 23, 45), place="Niet van mij")
    make_task(youssef, "Attest OCMW opvragen", day - dt.timedelta(days=3))
    make_task(amina, "Zwemclub bellen", day)
    make_task(amina, "Turnclub Hoboken bellen", day + dt.timedelta(days=2))
    make_task(amina, "Later pas", day + dt.timedelta(days=4))
    make_task(amina, "Zonder datum")
    make_task(amina, "Al gedaan", day - dt.timedelta(days=1), done_at=utcnow())
    make_task(elif_, "Iets van Tom", day)

    client.login(mediator)
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("<html" in page) == (headers == {})
    assert "Dag Sara" in page
    # Today's and tomorrow's planned contacts, in time order, each with a way to record it.
    assert "Sociaal centrum Deurne" in page and "telefonisch" in page
    assert page.index("Sociaal centrum Deurne") < page.index("telefonisch")
    assert "Overmorgen-plek" not in page and "Niet van mij" not in page
    assert "23:30" in page and "00:15" in page
    assert page.count("Registreren") == 2
    # To-dos: overdue first, then today, then the next two days; not the later, undated, done
    # or other mediator's ones.
    tasks = page.split('id="today-actions-title"')[1].split("</section>")[0]
    assert (
        tasks.index("Attest OCMW opvragen")
        < tasks.index("Zwemclub bellen")
        < tasks.index("Turnclub Hoboken bellen")
    )
    assert "Te laat:" in tasks and "Youssef El Idrissi" in tasks
    for absent in ("Later pas", "Zonder datum", "Al gedaan", "Iets van Tom"):
        assert absent not in tasks
    for absent in ("Elif Yilmaz", "Heel het team"):
        assert absent not in page
    # Recently touched cases.
    assert "Youssef El Idrissi" in page and "Stap 2/9" in page


def test_planned_contacts_of_closed_cases_are_not_shown(client, mediator, day) -> None:
    case = make_case(mediator)
    add_visit(case, planned=True, occurred_at=at_local(day, 23, 50), place="Gesloten dossier")
    in_db(lambda: models.Case.update(status="closed").where(models.Case.id == case.id).execute())
    still_open = make_case(mediator, make_client(first_name="Youssef", last_name="El Idrissi"))
    add_visit(still_open, planned=True, occurred_at=at_local(day, 23, 40), place="Open dossier")
    client.login(mediator)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Open dossier" in page and "Gesloten dossier" not in page


def test_a_coordinator_switches_between_own_work_and_the_team(
    client, mediator, coordinator, day
) -> None:
    own = make_case(coordinator, make_client(first_name="Kasia", last_name="Kowalska"))
    theirs = make_case(mediator)
    make_task(own, "Eigen opvolging", day)
    make_task(theirs, "Opvolging van Sara", day)
    client.login(coordinator)
    mine = client.get("/").get_data(as_text=True)
    assert "Eigen opvolging" in mine and "Opvolging van Sara" not in mine
    assert "Heel het team" in mine
    team = client.get("/?scope=team", headers=HTMX)
    assert team.status_code == 200
    page = team.get_data(as_text=True)
    assert "<html" not in page
    assert "Eigen opvolging" in page and "Opvolging van Sara" in page
    assert "Sara" in page  # whose it is


def test_a_mediator_cannot_switch_to_the_team(client, mediator, other_mediator, day) -> None:
    theirs = make_case(other_mediator)
    make_task(theirs, "Opvolging van Tom", day)
    make_task(make_case(mediator), "Mijn opvolging", day)
    client.login(mediator)
    response = client.get("/?scope=team")
    assert response.status_code == 200  # their own day, as without the parameter
    page = response.get_data(as_text=True)
    assert "Mijn opvolging" in page and "Opvolging van Tom" not in page


def test_recording_from_vandaag_opens_the_planned_contact(client, mediator, day) -> None:
    case = make_case(mediator)
    visit = add_visit(case, planned=True, occurred_at=at_local(day, 23, 55))
    client.login(mediator)
    page = client.get("/").get_data(as_text=True)
    assert f'href="/visits/{visit.id}/edit"' in page


def bulk(mediator: models.User, n: int, day: dt.date) -> None:
    """n more cases, each with a contact planned today, an overdue to-do and a card that runs
    out next week."""
    now = utcnow()
    with database.connection_context(), database.atomic():
        before = models.Case.select().count()
        models.Client.insert_many(
            [
                {
                    "first_name": "Client",
                    "last_name": f"Nummer {before + i}",
                    "card_type": "uitpas",
                    "card_valid_until": day + dt.timedelta(days=7),
                }
                for i in range(n)
            ]
        ).execute()
        client_ids = [
            c.id for c in models.Client.select().order_by(models.Client.id.desc()).limit(n)
        ]
        models.Case.insert_many(
            [{"client": cid, "mediator": mediator.id, "current_position": 3} for cid in client_ids]
        ).execute()
        case_ids = [c.id for c in models.Case.select().order_by(models.Case.id.desc()).limit(n)]
        rows = []
        for i, cid in enumerate(case_ids):
            common = {"case": cid, "mediator": mediator.id, "contact_type": "telefonisch"}
            rows.append(
                {
                    **common,
                    "planned": True,
                    "occurred_at": at_local(day, 23, i % 59),
                    "idempotency_key": uuid.uuid4().hex,
                }
            )
            rows.append(
                {
                    **common,
                    "occurred_at": now - dt.timedelta(days=5),
                    "idempotency_key": uuid.uuid4().hex,
                }
            )
        for chunk in range(0, len(rows), 400):
            models.Visit.insert_many(rows[chunk : chunk + 400]).execute()
        tasks = [
            {"case": cid, "text": f"Bellen {i}", "due": day - dt.timedelta(days=2)}
            for i, cid in enumerate(case_ids)
        ]
        for chunk in range(0, len(tasks), 400):
            models.Task.insert_many(tasks[chunk : chunk + 400]).execute()


def queries_and_size(client, url: str = "/") -> tuple[int, int]:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements), len(gzip.compress(response.get_data()))


@pytest.mark.parametrize(
    ("who", "url"),
    [("mediator", "/"), ("coordinator", "/"), ("coordinator", "/?scope=team")],
)
def test_vandaag_costs_the_same_with_10_or_1000_cases(client, request, who, url, day) -> None:
    user = request.getfixturevalue(who)
    client.login(user)
    bulk(user, 10, day)
    small, _ = queries_and_size(client, url)
    bulk(user, 990, day)
    large, size = queries_and_size(client, url)
    assert small == large
    assert size <= 14 * 1024, size


def test_cards_that_run_out_are_on_vandaag(client, mediator, other_mediator, day) -> None:
    def case_with_card(user, first_name, valid_for_days, **fields):  # type: ignore[no-untyped-def]
        card = {"card_type": "uitpas", "card_valid_until": day + dt.timedelta(days=valid_for_days)}
        return make_case(user, make_client(first_name=first_name, **card), **fields)

    case_with_card(mediator, "Binnenkort", 12)
    case_with_card(mediator, "Verlopen", -3)
    case_with_card(mediator, "Ruimschoots", 90)
    case_with_card(mediator, "Lang geleden", -200)
    closed = case_with_card(mediator, "Gesloten", 5)
    with database.connection_context():
        models.Case.update(status="closed").where(models.Case.id == closed.id).execute()
    case_with_card(other_mediator, "Collega", 5)
    client.login(mediator)
    page = client.get("/").get_data(as_text=True)
    section = page.split('id="today-cards-title"')[1].split("</section>")[0]
    # The one that already ran out first, then the one that soon will; nothing else.
    assert section.index("Verlopen Bouzid") < section.index("Binnenkort Bouzid")
    assert "Verlopen op" in section and "Geldig tot" in section
    for name in ("Ruimschoots", "Lang geleden", "Gesloten", "Collega"):
        assert name not in section


def test_no_card_section_when_no_card_runs_out(client, mediator, day) -> None:
    make_case(mediator, make_client(card_type="uitpas", card_valid_until=day + dt.timedelta(90)))
    client.login(mediator)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dag Sara" in page and "Kaarten die verlopen" not in page
