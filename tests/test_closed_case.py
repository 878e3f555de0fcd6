"""A closed case looks closed and stays closed: no to-do, no 'Contact registreren', no threshold
or enrolment buttons on its page, and every request that would add to it is refused (409, with
the reason in Dutch) however it is sent — only reopening and the coordinator's tasks remain."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import HTMX, in_db, make_case
from tests.test_activities import enrol, make_activity
from tests.test_thresholds import category_id
from tests.test_visits import visit_data
from webapp import models
from webapp.timeutil import local_today, utcnow

CLOSED = "Dit dossier is afgerond. Heropen het eerst."


@pytest.fixture
def closed(mediator: models.User) -> dict[str, object]:
    """A case with a to-do due today, a threshold, an enrolment and a planned contact, closed."""
    case = make_case(mediator)
    activity = make_activity()
    enrolment = enrol(case, activity, mediator)

    def build() -> dict[str, object]:
        visit = models.Visit.create(
            case=case,
            mediator=mediator,
            contact_type="telefonisch",
            occurred_at=utcnow() - dt.timedelta(days=1),
            idempotency_key="closed-1",
        )
        task = models.Task.create(
            case=case, visit=visit, text="Turnclub Hoboken bellen", due=local_today()
        )
        planned = models.Visit.create(
            case=case,
            mediator=mediator,
            contact_type="huisbezoek",
            occurred_at=utcnow() + dt.timedelta(hours=3),
            planned=True,
            idempotency_key="closed-2",
        )
        threshold = models.CaseThreshold.create(
            case=case, category=category_id("financieel"), note="Clubgeld"
        )
        session = models.Session.get(models.Session.enrolment == enrolment)
        models.Case.get_by_id(case.id).close("independent", "", "", mediator)
        return {
            "case": models.Case.get_by_id(case.id),
            "visit": visit,
            "task": task,
            "planned": planned,
            "threshold": threshold,
            "enrolment": enrolment,
            "activity": activity,
            "session": session,
        }

    return in_db(build)


def test_the_page_of_a_closed_case_offers_nothing_to_add(client, mediator, closed) -> None:
    case = closed["case"]
    client.login(mediator)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Afgerond" in page and "Dossier heropenen" in page
    for offer in (
        "Contact registreren",
        "Turnclub Hoboken bellen",  # the to-do due today
        "Drempel toevoegen",
        f"/thresholds/{closed['threshold'].id}/edit",
        "Inschrijven voor een activiteit",
        "Link maken en delen",
        "Link voor aanbieder",
        "Stoppen",
        "Gegevens aanpassen",  # the mediator reopens first
        "Dossier afronden",
    ):
        assert offer not in page, offer
    today = client.get("/").get_data(as_text=True)
    assert "Turnclub Hoboken bellen" not in today
    assert "Voetbal U13" not in today  # its sessions ask nothing of the mediator any more


def test_a_coordinator_still_reopens_assigns_erases_and_corrects(
    client, coordinator, closed
) -> None:
    case = closed["case"]
    client.login(coordinator)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    for still in (
        "Dossier heropenen",
        "Toewijzen aan een collega",
        "Wie keek in dit dossier",
        "Persoonsgegevens wissen",
        "Gegevens aanpassen",
    ):
        assert still in page, still
    assert "Contact registreren" not in page and "Drempel toevoegen" not in page
    assert client.get(f"/cases/{case.id}/client").status_code == 200


def _refused_requests(closed: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    case = closed["case"]
    t, e, s = closed["threshold"], closed["enrolment"], closed["session"]
    cid, a = case.id, closed["activity"].id
    return [
        ("get", f"/cases/{cid}/visits/new", {}),
        ("post", f"/cases/{cid}/visits", visit_data()),
        ("get", f"/visits/{closed['planned'].id}/edit", {}),
        ("post", f"/visits/{closed['planned'].id}", visit_data()),
        ("post", f"/tasks/{closed['task'].id}/done", {}),
        ("post", f"/cases/{cid}/tasks", {"text": "Bellen"}),
        ("get", f"/cases/{cid}/thresholds/new", {}),
        ("post", f"/cases/{cid}/thresholds/", {"category": t.category_id, "status": "open"}),
        ("get", f"/cases/{cid}/thresholds/{t.id}/edit", {}),
        ("post", f"/cases/{cid}/thresholds/{t.id}", {"t{t.id}-status": "resolved"}),
        ("get", f"/activities/cases/{cid}/choose", {}),
        ("get", f"/activities/cases/{cid}/enrol/{a}", {}),
        ("post", f"/activities/cases/{cid}/enrol/{a}", {"cost_arrangement": "full"}),
        ("post", f"/activities/cases/{cid}/sessions/{s.id}/attendance", {"attendance": "present"}),
        ("post", f"/activities/cases/{cid}/client-link", {}),
        ("post", f"/activities/cases/{cid}/enrolments/{e.id}/provider-link", {}),
        ("post", f"/activities/cases/{cid}/enrolments/{e.id}/stop", {"reason": "other"}),
        ("get", f"/cases/{cid}/client", {}),
        ("post", f"/cases/{cid}/client", {"first_name": "X", "last_name": "Y"}),
    ]


@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx"])
def test_every_addition_to_a_closed_case_is_refused_with_the_reason(
    client, mediator, closed, fragment
) -> None:
    client.login(mediator)
    headers = HTMX if fragment else {}
    before = in_db(
        lambda: (
            models.Visit.select().count(),
            models.CaseThreshold.select().count(),
            models.Enrolment.select().count(),
            models.AccessLink.select().count(),
            models.CaseEvent.select().count(),
        )
    )
    for method, url, data in _refused_requests(closed):
        response = getattr(client, method)(url, data=data, headers=headers)
        assert response.status_code == 409, (method, url, response.status_code)
        body = response.get_data(as_text=True)
        assert CLOSED in body, (method, url)
        assert ("<html" in body) is not fragment
    after = in_db(
        lambda: (
            models.Visit.select().count(),
            models.CaseThreshold.select().count(),
            models.Enrolment.select().count(),
            models.AccessLink.select().count(),
            models.CaseEvent.select().count(),
        )
    )
    assert after == before
    task = in_db(lambda: models.Task.get_by_id(closed["task"].id))
    assert task.done_at is None


def test_after_reopening_the_case_takes_additions_again(client, mediator, closed) -> None:
    case = closed["case"]
    client.login(mediator)
    reopened = client.post(f"/cases/{case.id}/reopen", data={"version": case.version})
    assert reopened.status_code == 303
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Contact registreren" in page and "Drempel toevoegen" in page
    assert client.post(f"/cases/{case.id}/visits", data=visit_data()).status_code == 303
