"""To-dos (taken): several open per case, listed on the case page and Vandaag, ticked off and
opened again in place, added by hand or by a visit, made by an accepted referral (the old
next-action columns of visits carried over: test_migrations.py)."""

from __future__ import annotations

import datetime as dt
import gzip
import uuid

import pytest

from tests.conftest import HTMX, count_queries, in_db, make_case, make_task
from tests.test_visits import local_now, stamp, visit_data
from webapp import models
from webapp.db import database
from webapp.timeutil import local_today, to_local, utcnow
from webapp.today import TASKS_LIMIT


@pytest.fixture
def case(mediator: models.User) -> models.Case:
    return make_case(mediator, opened_at=utcnow() - dt.timedelta(days=7))


def page_of(client, url: str, **kwargs) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def card(page: str) -> str:
    """The "Te doen" card of a case page."""
    return page.split('id="case-tasks"')[1].split("</section>")[0]


def task(task_id: int) -> models.Task:
    return in_db(lambda: models.Task.get_by_id(task_id))


def kinds(case: models.Case) -> list[str]:
    return in_db(
        lambda: [e.kind for e in models.CaseEvent.select().where(models.CaseEvent.case == case.id)]
    )


# --- The case page -------------------------------------------------------------------------


def test_the_case_lists_every_open_task_the_late_ones_first(client, mediator, case) -> None:
    today = local_today()
    make_task(case, "Turnclub Hoboken bellen", today + dt.timedelta(days=6))
    make_task(case, "Zonder datum")
    make_task(case, "Attest OCMW opvragen", today - dt.timedelta(days=4))
    make_task(case, "Al gedaan", today - dt.timedelta(days=9), done_at=utcnow())
    make_task(case, "UiTPAS laten activeren", today)
    client.login(mediator)
    page = page_of(client, f"/cases/{case.id}")
    todo = card(page)
    assert ">Te doen</h2>" in todo and "Volgende stap" not in page
    order = ["Attest OCMW opvragen", "UiTPAS laten activeren", "Turnclub Hoboken bellen"]
    assert [todo.index(t) for t in order] == sorted(todo.index(t) for t in order)
    assert todo.index("Turnclub Hoboken bellen") < todo.index("Zonder datum")
    assert "Al gedaan" not in todo
    assert "Te laat:" in todo and todo.count("✓ Gedaan") == 4


def test_a_new_task_from_a_visit_shows_beside_an_older_late_one(client, mediator, case) -> None:
    # The issue: "Turnclub Hoboken bellen" stayed invisible while an older, late one was open.
    make_task(case, "Attest OCMW opvragen", local_today() - dt.timedelta(days=3))
    due = local_today() + dt.timedelta(days=5)
    client.login(mediator)
    data = visit_data(next_action="Turnclub Hoboken bellen", next_action_due=due.isoformat())
    response = client.post(f"/cases/{case.id}/visits", data=data, follow_redirects=True)
    assert response.status_code == 200
    todo = card(response.get_data(as_text=True))
    assert todo.index("Attest OCMW opvragen") < todo.index("Turnclub Hoboken bellen")
    # The visit's line on the timeline says what it planned.
    timeline = response.get_data(as_text=True).split('id="case-timeline"')[1]
    assert "Te doen: Turnclub Hoboken bellen, tegen " in timeline


def test_recording_a_planned_contact_adds_its_task(client, mediator, case) -> None:
    client.login(mediator)
    plan = visit_data(
        occurred_at=stamp(local_now() - dt.timedelta(hours=1)), planned="y", next_action=""
    )
    plan.pop("next_action_due")
    client.post(f"/cases/{case.id}/visits", data=plan)
    visit = in_db(lambda: models.Visit.get(models.Visit.case == case.id))
    assert in_db(lambda: models.Task.select().count()) == 0
    data = visit_data(next_action="Inschrijving nakijken")
    assert client.post(f"/visits/{visit.id}", data=data).status_code == 303
    [made] = in_db(lambda: list(models.Task.select()))
    assert made.visit_id == visit.id and made.text == "Inschrijving nakijken"


# --- Done and undo, in place ----------------------------------------------------------------


def test_done_swaps_the_row_in_place_and_lands_on_the_timeline(client, mediator, case) -> None:
    made = make_task(case, "Zwemclub bellen", local_today())
    client.login(mediator)
    response = client.post(f"/tasks/{made.id}/done", headers=HTMX)
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert "<html" not in row and row.lstrip().startswith(f'<li id="task-{made.id}"')
    assert 'hx-target="closest li"' in row and "is-done" in row
    assert "Toch niet gedaan" in row and f'/tasks/{made.id}/undo"' in row
    assert "Taak gedaan: Zwemclub bellen" in response.headers["HX-Trigger"]
    assert "HX-Request" in response.headers["Vary"]
    done = task(made.id)
    assert done.done_at is not None and done.done_by_id == mediator.id
    # A double tap changes nothing more.
    client.post(f"/tasks/{made.id}/done", headers=HTMX)
    assert kinds(case).count("task_done") == 1
    # Gone from the list of open ones.
    assert "Zwemclub bellen" not in card(page_of(client, f"/cases/{case.id}"))


def test_undo_opens_the_task_again(client, mediator, case) -> None:
    made = make_task(case, "Zwemclub bellen", local_today(), done_at=utcnow())
    client.login(mediator)
    response = client.post(f"/tasks/{made.id}/undo", headers=HTMX)
    row = response.get_data(as_text=True)
    assert response.status_code == 200 and "✓ Gedaan" in row and "is-done" not in row
    assert task(made.id).done_at is None and "task_reopened" in kinds(case)
    assert "Zwemclub bellen" in card(page_of(client, f"/cases/{case.id}"))


@pytest.mark.parametrize(
    ("where", "back"), [(None, "/cases/{case}"), ("today", "/"), ("tasks", "/tasks/")]
)
def test_done_without_javascript_goes_back_where_it_was_ticked(
    client, mediator, case, where, back
) -> None:
    made = make_task(case, "Zwemclub bellen", local_today())
    client.login(mediator)
    response = client.post(f"/tasks/{made.id}/done", data={"where": where} if where else {})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(back.format(case=case.id))
    assert task(made.id).done_at is not None


def test_done_on_vandaag_keeps_naming_the_client(client, mediator, case) -> None:
    made = make_task(case, "Zwemclub bellen", local_today())
    client.login(mediator)
    row = client.post(f"/tasks/{made.id}/done", data={"where": "today"}, headers=HTMX)
    assert "Amina Bouzid" in row.get_data(as_text=True)


# --- Adding one by hand ---------------------------------------------------------------------


def test_add_a_task_on_the_case(client, mediator, case) -> None:
    client.login(mediator)
    due = local_today() + dt.timedelta(days=1)
    response = client.post(
        f"/cases/{case.id}/tasks",
        data={"text": "Mama terugbellen", "due": due.isoformat()},
        headers=HTMX,
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="case-tasks"')
    assert "Mama terugbellen" in fragment and "tegen morgen" in fragment
    assert "Taak toegevoegd." in response.headers["HX-Trigger"]
    made = in_db(lambda: models.Task.get(models.Task.case == case.id))
    assert (made.source, made.created_by_id, made.due) == ("manual", mediator.id, due)
    assert "task_added" in kinds(case)
    plain = client.post(f"/cases/{case.id}/tasks", data={"text": "Nog een"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#case-tasks")


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"text": ""}, "text", "Schrijf kort wat er te doen is."),
        ({"text": "x" * 201}, "text", "Maximaal 200 tekens."),
        ({"text": "Bellen", "due": "2001-01-01"}, "due", "Deze datum is al voorbij."),
        ({"text": "Bellen", "due": "2999-01-01"}, "due", "Deze datum kan niet kloppen."),
        ({"text": "Bellen", "due": "morgen"}, "due", "Vul een datum in."),
    ],
)
def test_a_bad_task_is_explained_next_to_the_field(
    client, mediator, case, headers, data, field, message
) -> None:
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/tasks", data=data, headers=headers)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error">{message}' in page
    assert ("<html" in page) == (headers == {})
    assert '<details class="task-add" open>' in page  # the form stays open, input kept
    if data["text"]:
        assert f'value="{data["text"]}"' in page
    assert in_db(lambda: models.Task.select().count()) == 0


# --- Who may ---------------------------------------------------------------------------------


def test_another_mediators_tasks_are_not_found(client, mediator, other_mediator, case) -> None:
    made = make_task(case, "Zwemclub bellen", local_today())
    client.login(other_mediator)
    for url in (f"/tasks/{made.id}/done", f"/tasks/{made.id}/undo", f"/cases/{case.id}/tasks"):
        assert client.post(url, data={"text": "x"}).status_code == 404, url
    assert client.post("/tasks/999999/done").status_code == 404
    assert task(made.id).done_at is None
    assert "Zwemclub bellen" not in page_of(client, "/tasks/")


def test_a_closed_case_has_nothing_to_tick(client, mediator, case) -> None:
    made = make_task(case, "Zwemclub bellen", local_today())
    in_db(lambda: case.close("independent", "", "", mediator))
    client.login(mediator)
    # 409 with the reason, like every other addition to a closed case (test_closed_case.py)
    assert client.post(f"/tasks/{made.id}/done").status_code == 409
    assert client.post(f"/cases/{case.id}/tasks", data={"text": "x"}).status_code == 409
    page = page_of(client, f"/cases/{case.id}")
    assert 'id="case-tasks"' not in page
    assert "Zwemclub bellen" not in page_of(client, "/")


def test_ticking_needs_the_csrf_token(client, mediator, case) -> None:
    made = make_task(case, "Zwemclub bellen", local_today())
    client.login(mediator)
    assert client.post(f"/tasks/{made.id}/done", csrf=False).status_code == 400
    assert task(made.id).done_at is None


# --- Vandaag and the full list -----------------------------------------------------------------


def test_vandaag_lists_what_is_due_and_links_to_the_rest(client, mediator, case) -> None:
    today = local_today()
    for n in range(14):
        make_task(case, f"Bellen nummer {n:02d}", today - dt.timedelta(days=n))
    make_task(case, "Volgende maand", today + dt.timedelta(days=30))
    client.login(mediator)
    page = page_of(client, "/")
    section = page.split('id="today-tasks"')[1].split("</section>")[0]
    assert section.count('class="task-item') == TASKS_LIMIT == 8
    assert section.index("Bellen nummer 13") < section.index("Bellen nummer 06")
    assert "Bellen nummer 05" not in section and "Meer taken" in section
    everything = page_of(client, "/tasks/")
    assert everything.count('class="task-item') == 15 and "Volgende maand" in everything


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_full_list_is_mine_or_for_a_coordinator_the_teams(
    client, mediator, other_mediator, coordinator, headers
) -> None:
    make_task(make_case(mediator), "Van Sara", local_today() + dt.timedelta(days=40))
    make_task(make_case(other_mediator), "Van Tom", None)
    client.login(mediator)
    page = page_of(client, "/tasks/?scope=team", headers=headers)
    assert ("<html" in page) == (headers == {})
    assert "Van Sara" in page and "Van Tom" not in page  # a mediator has no team view
    client.login(coordinator)
    mine = page_of(client, "/tasks/", headers=headers)
    assert "Van Sara" not in mine and "Niets meer te doen" in mine
    team = page_of(client, "/tasks/?scope=team", headers=headers)
    assert "Van Sara" in team and "Van Tom" in team and "Amina Bouzid · Tom ·" in team


@pytest.mark.parametrize("url", ["/", "/tasks/", "/tasks/?scope=team"])
def test_task_lists_cost_the_same_with_10_or_1000_cases(client, coordinator, url) -> None:
    from tests.test_today import bulk

    client.login(coordinator)
    bulk(coordinator, 10, local_today())

    def measure() -> tuple[int, int]:
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        return len(statements), len(gzip.compress(response.get_data()))

    small, _ = measure()
    bulk(coordinator, 990, local_today())
    large, size = measure()
    assert small == large
    assert size <= 14 * 1024, size


# --- A new case says what to do first -------------------------------------------------------


@pytest.fixture
def organisation(app) -> models.ReferringOrganisation:
    with database.connection_context():
        return models.ReferringOrganisation.create(
            name="Huis van het Kind Hoboken", kind="huis_van_het_kind"
        )


def refer(organisation, days_ago: int = 2, **fields) -> models.Referral:  # type: ignore[no-untyped-def]
    values = {
        "idempotency_key": uuid.uuid4().hex,
        "referrer_name": "Lies Verbruggen",
        "referrer_role": "maatschappelijk werker",
        "referrer_email": "lies.verbruggen@hvhk.example",
        "referrer_phone": "03 288 12 34",
        "first_name": "Oksana",
        "last_name": "Melnyk",
        "birth_date": dt.date(2018, 5, 2),
        "question": "Oksana turnde in Charkiv en mist het.",
        "first_contact": "huisbezoek",
        "submitted_at": utcnow() - dt.timedelta(days=days_ago),
    }
    values.update(fields)
    with database.connection_context():
        return models.Referral.submit(organisation, **values)


def accept(client, coordinator, mediator, referral) -> models.Case:  # type: ignore[no-untyped-def]
    client.login(coordinator)
    response = client.post(
        f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": "new"}
    )
    assert response.status_code == 303
    return in_db(lambda: models.Case.get_by_id(models.Referral.get_by_id(referral.id).case_id))


def test_accepting_a_referral_gives_the_mediator_the_first_contact_to_do(
    client, coordinator, mediator, organisation
) -> None:
    referral = refer(organisation, days_ago=2)
    case = accept(client, coordinator, mediator, referral)
    [first] = in_db(lambda: list(models.Task.select().where(models.Task.case == case.id)))
    assert first.text == "Eerste contact: huisbezoek" and first.source == "referral"
    # Due when the referrer was promised contact: within the week of the referral.
    assert first.due == to_local(referral.submitted_at).date() + models.FIRST_CONTACT_TERM
    assert first.created_by_id == coordinator.id
    # On the mediator's Vandaag, marked new; on the case page with the referrer's request.
    client.login(mediator)
    today = page_of(client, "/").split('id="today-tasks"')[1].split("</section>")[0]
    assert "Eerste contact: huisbezoek" in today and ">nieuw</span>" in today
    page = page_of(client, f"/cases/{case.id}")
    assert "Eerste contact: huisbezoek" in card(page)
    request = page.split('id="case-referral"')[1].split("</details>")[0]
    assert request.lstrip().startswith('class="card referral-card" open>')
    assert "Lies Verbruggen (Huis van het Kind Hoboken)" in request
    assert 'href="tel:032881234"' in request
    assert 'href="mailto:lies.verbruggen@hvhk.example"' in request
    assert "huisbezoek" in request and "Oksana turnde in Charkiv" in request


def test_the_first_contact_term_never_lies_in_the_past(client, coordinator, mediator, organisation):
    referral = refer(organisation, days_ago=20, first_contact="")
    case = accept(client, coordinator, mediator, referral)
    first = in_db(lambda: models.Task.get(models.Task.case == case.id))
    assert first.due == local_today() and first.text == "Eerste contact"


def test_new_only_while_fresh_and_given_by_someone_else(client, coordinator, mediator, case):
    make_task(case, "Van een collega", local_today(), created_by=coordinator.id)
    make_task(
        case,
        "Van vorige week",
        local_today(),
        created_by=coordinator.id,
        created_at=utcnow() - models.NEW_FOR - dt.timedelta(hours=1),
    )
    make_task(case, "Van mezelf", local_today())
    for n in range(10):  # more due than Vandaag shows: the new one still comes first
        make_task(case, f"Al lang te laat {n}", local_today() - dt.timedelta(days=30))
    client.login(mediator)
    today = page_of(client, "/").split('id="today-tasks"')[1].split("</section>")[0]
    assert today.index("Van een collega") < today.index("Al lang te laat")
    rows = {row.split("</a>")[0].split(">")[-1]: row for row in today.split('<li id="task-')[1:]}
    assert ">nieuw</span>" in rows["Van een collega"]
    assert all(
        ">nieuw</span>" not in row for text, row in rows.items() if text != "Van een collega"
    )


def test_the_referrers_request_folds_away_after_the_first_steps(
    client, coordinator, mediator, organisation
) -> None:
    case = accept(client, coordinator, mediator, refer(organisation))
    in_db(lambda: case.complete_step_by_event("first_contact", mediator))
    in_db(lambda: models.Case.get_by_id(case.id).refresh_position())
    in_db(
        lambda: (
            models.CaseStep.update(status="done").where(models.CaseStep.case == case.id).execute()
        )
    )
    in_db(lambda: models.Case.get_by_id(case.id).refresh_position())
    client.login(mediator)
    page = page_of(client, f"/cases/{case.id}")
    assert '<details id="case-referral" class="card referral-card">' in page


def test_a_case_opened_for_a_colleague_starts_with_a_to_do(client, coordinator, mediator) -> None:
    client.login(coordinator)
    data = {
        "first_name": "Dorota",
        "last_name": "Nowak",
        "birth_date": "2014-04-02",
        "language": "pl",
        "source": "permanentie",
        "mediator": str(mediator.id),
        "create_anyway": "y",
    }
    response = client.post("/cases/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    first = in_db(models.Task.get)
    assert first.text == "Eerste contact" and first.due == local_today() + models.FIRST_CONTACT_TERM
    client.login(mediator)
    data.update(first_name="Zofia", mediator="")
    assert client.post("/cases/new", data=data).status_code == 303
    assert in_db(lambda: models.Task.select().count()) == 1  # opened by herself: she was there


def test_erasing_a_client_empties_the_task_texts(client, coordinator, mediator, case) -> None:
    make_task(case, "Bel Amina over haar schulden", local_today())
    in_db(lambda: case.close("independent", "", "", mediator))
    client.login(coordinator)
    assert client.post(f"/cases/{case.id}/anonymise", data={"confirm": "y"}).status_code == 303
    assert in_db(models.Task.get).text == ""


def test_the_audit_trail_names_the_task_changes(client, coordinator, mediator, case) -> None:
    made = make_task(case, "Zwemclub bellen", local_today())
    client.login(mediator)
    client.post(f"/tasks/{made.id}/done")
    client.login(coordinator)
    assert "vinkte een taak af" in page_of(client, f"/cases/{case.id}/audit")
