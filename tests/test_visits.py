"""Recording a contact: the form, idempotency, planned contacts, bad input, the to-do it leaves."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from tests.conftest import HTMX, in_db, make_case
from webapp import models
from webapp.timeutil import LOCAL, to_local, utcnow

JSON = {"Accept": "application/json"}


@pytest.fixture
def case(mediator: models.User) -> models.Case:
    """Opened last week: 'an hour ago' is then never before its opening, even past midnight."""
    return make_case(mediator, opened_at=utcnow() - dt.timedelta(days=7))


def local_now() -> dt.datetime:
    return dt.datetime.now(LOCAL).replace(tzinfo=None, second=0, microsecond=0)


def stamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def visit_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "contact_type": "huisbezoek",
        "occurred_at": stamp(local_now() - dt.timedelta(minutes=5)),
        "duration_minutes": "45",
        "place": "Thuis, Turnhoutsebaan",
        "contact_made": "y",
        "notes": "Amina wil graag zwemmen. Mama vraagt naar de UiTPAS.",
        "next_action": "Zwemclub Borgerhout bellen",
        "next_action_due": (local_now().date() + dt.timedelta(days=2)).isoformat(),
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def visits_of(case: models.Case) -> list[models.Visit]:
    return in_db(lambda: list(models.Visit.select().where(models.Visit.case == case.id)))


def step_status(case: models.Case, key: str) -> str:
    return in_db(
        lambda: (
            models.CaseStep.select(models.CaseStep.status)
            .join(models.StepDefinition)
            .where(models.CaseStep.case == case.id, models.StepDefinition.key == key)
            .scalar()
        )
    )


def events_of(case: models.Case) -> list[str]:
    return in_db(
        lambda: [e.kind for e in models.CaseEvent.select().where(models.CaseEvent.case == case.id)]
    )


# The form


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_form_has_the_contract_fields_and_labels(client, mediator, case, headers) -> None:
    client.login(mediator)
    response = client.get(f"/cases/{case.id}/visits/new", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for label in (
        "Soort contact",
        "Wanneer",
        "Duur (minuten)",
        "Plaats",
        "Contact gehad",
        "Gepland (nog niet gebeurd)",
        "Notities",
        "Te doen",
        "Tegen wanneer",
        "Contact bewaren",
    ):
        assert label in page, label
    assert 'id="visit-form"' in page and "data-offline-queue" in page
    assert 'type="datetime-local"' in page and 'type="date"' in page
    assert 'name="idempotency_key"' in page and 'value="30"' in page
    # Contact made is ticked by default; the time defaults to now in Brussels.
    assert 'id="contact_made" name="contact_made" type="checkbox" value="y"' in page
    assert stamp(local_now())[:13] in page
    assert ("<html" in page) == (headers == {})


def test_each_form_gets_its_own_key(client, mediator, case) -> None:
    client.login(mediator)
    pages = [client.get(f"/cases/{case.id}/visits/new").get_data(as_text=True) for _ in range(2)]
    keys = [p.split('name="idempotency_key" type="hidden" value="')[1][:36] for p in pages]
    assert keys[0] != keys[1]
    uuid.UUID(keys[0])


# Saving


def test_record_a_visit_lands_on_the_case_and_completes_kennismaking(client, mediator, case):
    client.login(mediator)
    data = visit_data()
    response = client.post(f"/cases/{case.id}/visits", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    [visit] = visits_of(case)
    assert visit.contact_type == "huisbezoek" and visit.duration_minutes == 45
    assert visit.contact_made and not visit.planned
    # Typed in Brussels time, stored in UTC.
    assert stamp(to_local(visit.occurred_at).replace(tzinfo=None)) == data["occurred_at"]
    # The to-do typed on the form is a task of the case, made by this visit.
    [task] = in_db(lambda: list(models.Task.select().where(models.Task.case == case.id)))
    assert (task.text, task.visit_id, task.source) == (
        "Zwemclub Borgerhout bellen",
        visit.id,
        "visit",
    )
    assert task.due.isoformat() == data["next_action_due"] and task.created_by_id == mediator.id
    assert step_status(case, "kennismaking") == "done"
    assert "visit" in events_of(case) and "step_auto" in events_of(case)
    assert in_db(lambda: models.Case.get_by_id(case.id).current_position) == 3
    audit = in_db(lambda: models.AuditEvent.get(models.AuditEvent.object_type == "visit"))
    assert audit.action == "create" and audit.user_id == mediator.id
    with client.session_transaction() as session:
        assert "Contact bewaard." in str(session.get("_flashes"))


def test_visit_without_contact_does_not_complete_kennismaking(client, mediator, case) -> None:
    client.login(mediator)
    data = visit_data(contact_type="telefonisch", contact_made=None, duration_minutes="5")
    assert client.post(f"/cases/{case.id}/visits", data=data).status_code == 303
    [visit] = visits_of(case)
    assert not visit.contact_made
    assert step_status(case, "kennismaking") == "todo"


def test_htmx_save_sends_the_browser_to_the_case_with_an_announcement(client, mediator, case):
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(), headers=HTMX)
    assert response.status_code == 204
    assert f"/cases/{case.id}" in response.headers["HX-Location"]
    assert "Contact bewaard." in response.headers["HX-Trigger"]


def test_the_same_form_sent_twice_makes_one_visit(client, mediator, case) -> None:
    client.login(mediator)
    data = visit_data()
    first = client.post(f"/cases/{case.id}/visits", data=data)
    second = client.post(f"/cases/{case.id}/visits", data=data)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert len(visits_of(case)) == 1
    assert events_of(case).count("visit") == 1


def test_json_answers_created_then_duplicate(client, mediator, case) -> None:
    client.login(mediator)
    data = visit_data()
    first = client.post(f"/cases/{case.id}/visits", data=data, headers=JSON)
    assert first.status_code == 201
    assert first.json["status"] == "created"
    assert first.json["visit_id"] == visits_of(case)[0].id
    again = client.post(f"/cases/{case.id}/visits", data=data, headers=JSON)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert len(visits_of(case)) == 1


def test_json_invalid_lists_the_errors(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/visits", data=visit_data(contact_type=""), headers=JSON
    )
    assert response.status_code == 422
    assert response.json == {
        "status": "invalid",
        "errors": {"contact_type": "Kies de soort contact."},
    }


def test_json_on_a_case_closed_since_is_a_conflict(client, mediator, case) -> None:
    in_db(lambda: models.Case.update(status="closed").where(models.Case.id == case.id).execute())
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(), headers=JSON)
    assert response.status_code == 409
    assert response.json["status"] == "closed" and "afgerond" in response.json["message"]
    assert visits_of(case) == []


def test_json_on_a_case_reassigned_since_is_a_conflict(client, mediator, other_mediator, case):
    in_db(
        lambda: (
            models.Case.update(mediator=other_mediator.id)
            .where(models.Case.id == case.id)
            .execute()
        )
    )
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(), headers=JSON)
    assert response.status_code == 409
    assert response.json["status"] == "reassigned"
    assert visits_of(case) == []


def test_json_on_someone_elses_case_that_was_never_mine_is_not_found(
    client, mediator, other_mediator, case
) -> None:
    client.login(other_mediator)
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(), headers=JSON)
    assert response.status_code == 404


def test_closed_case_has_no_visit_form(client, mediator, case) -> None:
    in_db(lambda: models.Case.update(status="closed").where(models.Case.id == case.id).execute())
    client.login(mediator)
    assert client.get(f"/cases/{case.id}/visits/new").status_code == 409
    assert client.post(f"/cases/{case.id}/visits", data=visit_data()).status_code == 409


def test_coordinator_records_a_visit_on_any_case(client, mediator, coordinator, case) -> None:
    client.login(coordinator)
    assert client.post(f"/cases/{case.id}/visits", data=visit_data()).status_code == 303
    [visit] = visits_of(case)
    assert visit.mediator_id == coordinator.id


# Bad input: the message next to the field, the input kept


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_type", "", "Kies de soort contact."),
        ("contact_type", "teleportatie", "Kies een soort contact uit de lijst."),
        ("duration_minutes", "-5", "De duur ligt tussen 0 en 720 minuten."),
        ("duration_minutes", "100000", "De duur ligt tussen 0 en 720 minuten."),
        ("duration_minutes", "een uur", "Vul een aantal minuten in, zoals 30."),
        ("duration_minutes", "", "Vul de duur in minuten in."),
        ("notes", "x" * 2001, "Maximaal 2000 tekens."),
        ("place", "p" * 121, "Maximaal 120 tekens."),
        ("next_action", "n" * 201, "Maximaal 200 tekens."),
        ("occurred_at", "", "Vul in wanneer het contact was."),
        ("occurred_at", "2026-02-31T10:00", "Vul een datum en uur in"),
        ("occurred_at", "1066-10-14T09:00", "Deze datum kan niet kloppen."),
        ("next_action_due", "2026-13-01", "Vul een datum in."),
        ("next_action_due", "2999-01-01", "Deze datum kan niet kloppen."),
        ("next_action_due", "2001-01-01", "Deze datum is al voorbij."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_bad_input_is_refused_next_to_the_field(
    client, mediator, case, field, value, message, headers
) -> None:
    client.login(mediator)
    data = visit_data(**{field: value})
    response = client.post(f"/cases/{case.id}/visits", data=data, headers=headers)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-error">{message}' in page
    assert "Controleer de velden met een fout." in page
    # What was typed is still there.
    assert "Amina wil graag zwemmen." in page or field == "notes"
    assert visits_of(case) == []


def test_a_visit_in_the_future_must_be_planned(client, mediator, case) -> None:
    client.login(mediator)
    tomorrow = stamp(local_now() + dt.timedelta(days=1))
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(occurred_at=tomorrow))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="occurred_at-error">Dit ligt in de toekomst.' in page
    assert f'value="{tomorrow}"' in page
    assert visits_of(case) == []


def test_a_date_before_the_case_was_opened_is_refused(client, mediator) -> None:
    case = make_case(mediator, opened_at=utcnow() - dt.timedelta(days=10))
    client.login(mediator)
    too_early = stamp(local_now() - dt.timedelta(days=30))
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(occurred_at=too_early))
    assert response.status_code == 422
    assert "vóór de opening van het dossier" in response.get_data(as_text=True)
    fine = stamp(local_now() - dt.timedelta(days=9))
    assert (
        client.post(f"/cases/{case.id}/visits", data=visit_data(occurred_at=fine)).status_code
        == 303
    )


def test_a_due_date_without_a_next_action_is_refused(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(next_action=""))
    assert response.status_code == 422
    assert 'id="next_action_due-error">Vul ook in wat er te doen is' in response.get_data(
        as_text=True
    )


def test_a_mangled_key_is_refused(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(idempotency_key="<x>"))
    assert response.status_code == 422
    assert visits_of(case) == []


# Planned contacts


def test_a_planned_contact_may_be_in_the_future_and_does_not_complete_kennismaking(
    client, mediator, case
) -> None:
    client.login(mediator)
    tomorrow = local_now() + dt.timedelta(days=1)
    data = visit_data(occurred_at=stamp(tomorrow), planned="y", notes="")
    assert client.post(f"/cases/{case.id}/visits", data=data).status_code == 303
    [visit] = visits_of(case)
    assert visit.planned
    assert step_status(case, "kennismaking") == "todo"
    assert "visit_planned" in events_of(case)


def test_a_planned_contact_more_than_a_year_ahead_is_refused(client, mediator, case) -> None:
    client.login(mediator)
    data = visit_data(occurred_at=stamp(local_now() + dt.timedelta(days=800)), planned="y")
    response = client.post(f"/cases/{case.id}/visits", data=data)
    assert response.status_code == 422
    assert "Deze datum kan niet kloppen." in response.get_data(as_text=True)


def plan(client, case, when: dt.datetime) -> models.Visit:
    data = visit_data(occurred_at=stamp(when), planned="y", notes="", next_action="")
    data.pop("next_action_due")
    assert client.post(f"/cases/{case.id}/visits", data=data).status_code == 303
    return visits_of(case)[-1]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_recording_a_planned_contact_opens_the_form_prefilled(client, mediator, case, headers):
    client.login(mediator)
    planned = plan(client, case, local_now() - dt.timedelta(hours=1))
    response = client.get(f"/visits/{planned.id}/edit", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Gepland contact registreren" in page
    assert 'value="huisbezoek" checked' in page or 'checked id="contact_type-0"' in page
    assert 'id="planned" name="planned" type="checkbox" value="y">' in page  # not ticked


def test_recording_a_planned_contact_turns_it_into_a_visit(client, mediator, case) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() - dt.timedelta(hours=1))
    data = visit_data(occurred_at=stamp(local_now() - dt.timedelta(minutes=50)))
    response = client.post(f"/visits/{planned.id}", data=data)
    assert response.status_code == 303
    [visit] = visits_of(case)  # the same row
    assert visit.id == planned.id and not visit.planned
    assert visit.notes.startswith("Amina wil graag zwemmen.")
    assert step_status(case, "kennismaking") == "done"
    # Sent again (a double tap): nothing changes, the answer is the same.
    assert client.post(f"/visits/{planned.id}", data=data).status_code == 303
    assert events_of(case).count("visit") == 1


def test_recording_a_planned_contact_checks_the_input(client, mediator, case) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() + dt.timedelta(hours=3))
    data = visit_data(occurred_at=stamp(local_now() + dt.timedelta(hours=3)), contact_type="")
    response = client.post(f"/visits/{planned.id}", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Kies de soort contact." in page and "Dit ligt in de toekomst." in page
    assert visits_of(case)[0].planned


def test_a_done_visit_cannot_be_opened_as_planned(client, mediator, case) -> None:
    client.login(mediator)
    client.post(f"/cases/{case.id}/visits", data=visit_data())
    [visit] = visits_of(case)
    assert client.get(f"/visits/{visit.id}/edit").status_code == 404


def test_another_mediators_visit_is_not_found(client, mediator, other_mediator, case) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() + dt.timedelta(hours=3))
    client.login(other_mediator)
    assert client.get(f"/visits/{planned.id}/edit").status_code == 404
    assert client.post(f"/visits/{planned.id}", data=visit_data()).status_code == 404
    assert client.get("/visits/999999/edit").status_code == 404


def test_the_form_offers_first_the_types_of_the_mediators_latest_contacts(
    client, mediator, case
) -> None:
    """The usual contact types come first: those the mediator recorded most among their newest
    contacts, never planned ones to come nor contacts of more than 90 days ago."""
    from webapp.models.cases import USUAL_TYPES_FROM

    now = utcnow()

    def contacts(kind: str, n: int, start: dt.timedelta, planned: bool = False) -> None:
        rows = [
            {
                "case": case.id,
                "mediator": mediator.id,
                "contact_type": kind,
                "occurred_at": now - start - dt.timedelta(minutes=i),
                "planned": planned,
                "idempotency_key": uuid.uuid4().hex,
            }
            for i in range(n)
        ]
        in_db(lambda: models.Visit.insert_many(rows).execute())

    contacts("telefonisch", 3, dt.timedelta(days=1))
    contacts("administratie", 2, dt.timedelta(days=2))
    contacts("fax", 5, dt.timedelta(days=3))  # a type no longer offered (an old import)
    contacts("loket", 9, -dt.timedelta(days=3), planned=True)  # planned, still to come
    contacts("casusoverleg", 9, dt.timedelta(days=120))  # too long ago
    client.login(mediator)

    def first_types() -> list[str]:
        page = client.get(f"/cases/{case.id}/visits/new").get_data(as_text=True)
        shown = page.split("<legend>")[1].split('class="more-types"')[0]
        return re.findall(r'name="contact_type"[^>]*value="([^"]+)"', shown) or re.findall(
            r'value="([^"]+)"[^>]*name="contact_type"', shown
        )

    assert first_types()[:2] == ["telefonisch", "administratie"]
    assert "loket" not in first_types() and "casusoverleg" not in first_types()
    assert "fax" not in first_types()
    # Only the newest contacts count: a busy mediator's older habits give way.
    contacts("groepsactiviteit", USUAL_TYPES_FROM + 50, dt.timedelta(days=10))
    assert first_types()[0] == "groepsactiviteit"
    contacts("bericht", USUAL_TYPES_FROM, dt.timedelta(hours=1))
    assert first_types()[0] == "bericht" and "groepsactiviteit" not in first_types()
