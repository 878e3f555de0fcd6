"""Correcting the record: who may correct or remove a recorded contact and when, the reason and
the timeline line, the audit rows, the 409 on a stale form, the step effects, and planned
contacts moved, cancelled or registered from the case page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import HTMX, count_queries, in_db, make_case, make_client
from tests.test_visits import (
    JSON,
    events_of,
    local_now,
    plan,
    stamp,
    step_status,
    visit_data,
    visits_of,
)
from webapp import models
from webapp.reports.figures import Period, contacts
from webapp.timeutil import local_today, to_local, utcnow


@pytest.fixture
def case(mediator: models.User) -> models.Case:
    return make_case(mediator, opened_at=utcnow() - dt.timedelta(days=30))


def record(client, case, **overrides) -> models.Visit:
    """A contact recorded through the form, as the logged-in user."""
    response = client.post(f"/cases/{case.id}/visits", data=visit_data(**overrides))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return visits_of(case)[-1]


def day_of(visit: models.Visit) -> str:
    when = to_local(visit.occurred_at)
    return f"{when.day}/{when.month}"


def correction(visit: models.Visit, **overrides: object) -> dict[str, object]:
    """What the correction form sends back: the stored contact with some fields changed."""
    data = visit_data(
        contact_type=visit.contact_type,
        occurred_at=stamp(to_local(visit.occurred_at).replace(tzinfo=None)),
        duration_minutes=str(visit.duration_minutes),
        place=visit.place,
        notes=visit.notes,
        version=str(visit.version or 1),
    )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def timeline_details(case: models.Case) -> list[tuple[str, str]]:
    return in_db(
        lambda: [
            (e.kind, e.detail)
            for e in models.CaseEvent.select()
            .where(models.CaseEvent.case == case.id)
            .order_by(models.CaseEvent.id)
        ]
    )


def audit_rows(visit: models.Visit) -> list[tuple[str, str | None, int | None]]:
    return in_db(
        lambda: [
            (a.action, a.fields, a.user_id)
            for a in models.AuditEvent.select()
            .where(
                models.AuditEvent.object_type == "visit", models.AuditEvent.object_id == visit.id
            )
            .order_by(models.AuditEvent.id)
        ]
    )


def fresh(visit: models.Visit) -> models.Visit:
    return in_db(lambda: models.Visit.get_by_id(visit.id))


# Who may correct and remove a recorded contact


def _age(visit: models.Visit, days: int) -> None:
    recorded = utcnow() - dt.timedelta(days=days)
    in_db(
        lambda: (
            models.Visit.update(recorded_at=recorded).where(models.Visit.id == visit.id).execute()
        )
    )


@pytest.mark.parametrize(
    ("who", "age_days", "expected"),
    [
        ("author", 0, 200),
        ("author", 13, 200),
        ("author", 15, 403),
        ("colleague_on_case", 0, 403),
        ("other_mediator", 0, 404),
        ("coordinator", 0, 200),
        ("coordinator", 400, 200),
    ],
)
@pytest.mark.parametrize("action", ["correct", "remove"])
def test_who_may_correct_or_remove_a_recorded_contact(
    client, mediator, other_mediator, coordinator, case, who, age_days, expected, action
) -> None:
    client.login(mediator)
    visit = record(client, case)
    _age(visit, age_days)
    user = {"author": mediator, "other_mediator": other_mediator, "coordinator": coordinator}
    if who == "colleague_on_case":
        # The case went to a colleague: they see the contact, but did not record it.
        in_db(lambda: models.Case.get_by_id(case.id).assign_to(other_mediator, coordinator))
        user["colleague_on_case"] = other_mediator
    client.login(user[who])
    page = client.get(f"/visits/{visit.id}/{action}")
    assert page.status_code == expected
    if expected == 403:
        text = page.get_data(as_text=True)
        assert "Dit contact kan je niet meer aanpassen" in text
        assert "14 dagen" in text
    data = correction(visit, notes="Toch iets anders.")
    if action == "remove":
        data = {"reason": "duplicate", "version": "1"}
    sent = client.post(f"/visits/{visit.id}/{action}", data=data)
    assert sent.status_code == (303 if expected == 200 else expected)
    changed = fresh(visit)
    if expected == 200:
        assert changed.notes == "" if action == "remove" else changed.notes == "Toch iets anders."
    else:
        assert changed.notes == visit.notes and changed.removed_at is None


def test_on_a_closed_case_only_a_coordinator_corrects(client, mediator, coordinator, case) -> None:
    client.login(mediator)
    visit = record(client, case)
    in_db(lambda: models.Case.get_by_id(case.id).close("independent", "", "", coordinator))
    assert client.get(f"/visits/{visit.id}/correct").status_code == 403
    client.login(coordinator)
    assert client.get(f"/visits/{visit.id}/correct").status_code == 200
    sent = client.post(f"/visits/{visit.id}/correct", data=correction(visit, duration_minutes="50"))
    assert sent.status_code == 303
    assert fresh(visit).duration_minutes == 50


def test_the_case_page_offers_aanpassen_only_to_who_may(client, mediator, coordinator, case):
    client.login(mediator)
    visit = record(client, case)
    link = f'href="/visits/{visit.id}/correct"'
    assert link in client.get(f"/cases/{case.id}").get_data(as_text=True)
    _age(visit, 20)
    assert link not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    client.login(coordinator)
    assert link in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_a_wrong_id_is_not_found(client, mediator, case) -> None:
    client.login(mediator)
    for path in ("correct", "remove", "move", "cancel"):
        assert client.get(f"/visits/999999/{path}").status_code == 404
        assert client.post(f"/visits/999999/{path}", data={}).status_code == 404


# Correcting


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_correction_form_is_filled_with_what_is_stored(client, mediator, case, headers):
    client.login(mediator)
    visit = record(client, case)
    response = client.get(f"/visits/{visit.id}/correct", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("<html" in page) == (not headers)
    assert "Contact aanpassen" in page
    assert "Amina wil graag zwemmen." in page
    assert 'name="next_action"' not in page  # its to-dos are kept under Te doen
    assert 'name="version" type="hidden" value="1"' in page
    assert 'name="planned"' not in page  # a recorded contact stays recorded
    assert f'href="/visits/{visit.id}/remove"' in page


def test_a_correction_is_saved_on_the_timeline_and_audited_by_field(client, mediator, case):
    client.login(mediator)
    visit = record(client, case)
    data = correction(visit, duration_minutes="60", notes="Amina wil zwemmen én dansen.")
    response = client.post(f"/visits/{visit.id}/correct", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    stored = fresh(visit)
    assert (stored.duration_minutes, stored.notes) == (60, "Amina wil zwemmen én dansen.")
    assert stored.version == 2
    assert ("visit_corrected", f"Contact van {day_of(visit)} aangepast: duur, notities") in (
        timeline_details(case)
    )
    assert audit_rows(visit)[-1] == ("update", "duration_minutes,notes", mediator.id)
    # The audit trail names the fields, never what was written.
    assert "zwemmen én dansen" not in str(audit_rows(visit))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"Contact van {day_of(visit)} aangepast: duur, notities" in page


def test_the_coordinators_audit_trail_names_the_changed_fields(client, mediator, coordinator, case):
    client.login(mediator)
    visit = record(client, case)
    client.post(f"/visits/{visit.id}/correct", data=correction(visit, place="Bibliotheek Deurne"))
    client.login(coordinator)
    page = client.get(f"/cases/{case.id}/audit").get_data(as_text=True)
    assert "wijzigde een contact (plaats)" in page
    assert "Bibliotheek Deurne" not in page


def test_a_correction_is_checked_like_a_new_contact(client, mediator, case) -> None:
    client.login(mediator)
    visit = record(client, case)
    tomorrow = stamp(local_now() + dt.timedelta(days=1))
    data = correction(visit, occurred_at=tomorrow, notes="Nieuwe tekst", contact_type="")
    response = client.post(f"/visits/{visit.id}/correct", data=data, headers=HTMX)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Kies de soort contact." in page and "Dit ligt in de toekomst." in page
    assert "Nieuwe tekst" in page  # the input is kept
    assert fresh(visit).notes == visit.notes


def test_a_stale_correction_is_a_409_that_keeps_the_input(client, mediator, coordinator, case):
    client.login(mediator)
    visit = record(client, case)
    mine = correction(visit, notes="Mijn versie van het gesprek.")
    # Meanwhile the coordinator corrects the same contact.
    client.login(coordinator)
    theirs = correction(visit, duration_minutes="90")
    assert client.post(f"/visits/{visit.id}/correct", data=theirs).status_code == 303
    client.login(mediator)
    response = client.post(f"/visits/{visit.id}/correct", data=mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Iemand anders paste dit contact aan" in page
    assert "Mijn versie van het gesprek." in page  # kept in the form
    assert re.search(r"<th scope=\"row\">Duur \(minuten\)</th><td>45</td><td>90</td>", page)
    assert 'name="version" type="hidden" value="2"' in page
    assert fresh(visit).notes == visit.notes
    # The way forward: send it again (now with the version the 409 page carries).
    again = client.post(f"/visits/{visit.id}/correct", data={**mine, "version": "2"})
    assert again.status_code == 303
    assert (fresh(visit).notes, fresh(visit).duration_minutes) == (
        "Mijn versie van het gesprek.",
        45,
    )


def test_a_correction_without_changes_leaves_no_trace(client, mediator, case) -> None:
    client.login(mediator)
    visit = record(client, case)
    assert client.post(f"/visits/{visit.id}/correct", data=correction(visit)).status_code == 303
    assert "visit_corrected" not in events_of(case)
    assert [a[0] for a in audit_rows(visit)] == ["create"]


def test_correcting_the_only_contact_to_no_contact_reopens_kennismaking(client, mediator, case):
    client.login(mediator)
    visit = record(client, case)
    assert step_status(case, "kennismaking") == "done"
    data = correction(visit)
    data.pop("contact_made")
    client.post(f"/visits/{visit.id}/correct", data=data)
    assert step_status(case, "kennismaking") == "todo"
    assert in_db(lambda: models.Case.get_by_id(case.id).current_position) == 2
    # And back: the contact took place after all.
    client.post(
        f"/visits/{visit.id}/correct", data={**correction(fresh(visit)), "contact_made": "y"}
    )
    assert step_status(case, "kennismaking") == "done"


# Removing


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_removing_asks_for_a_reason(client, mediator, case, headers) -> None:
    client.login(mediator)
    visit = record(client, case)
    page = client.get(f"/visits/{visit.id}/remove", headers=headers)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert ("<html" in text) == (not headers)
    for reason in ("dubbel", "verkeerd dossier", "fout ingevoerd"):
        assert reason in text
    response = client.post(f"/visits/{visit.id}/remove", data={"version": "1"}, headers=headers)
    assert response.status_code == 422
    assert "Kies een reden." in response.get_data(as_text=True)
    refused = client.post(f"/visits/{visit.id}/remove", data={"reason": "boos", "version": "1"})
    assert refused.status_code == 422
    assert fresh(visit).removed_at is None


def test_a_removed_contact_counts_nowhere_and_says_so_on_the_timeline(
    client, mediator, coordinator, case
) -> None:
    client.login(mediator)
    kept = record(client, case, next_action="", next_action_due=None)
    extra = record(client, case, next_action="Turnclub Hoboken bellen")
    data = {"reason": "duplicate", "note": "twee keer ingevoerd", "version": "1"}
    response = client.post(f"/visits/{extra.id}/remove", data=data)
    assert response.status_code == 303
    with client.session_transaction() as session:
        assert "Contact verwijderd." in str(session.get("_flashes"))
    stored = fresh(extra)
    assert stored.removed_at is not None and stored.removed_reason == "duplicate"
    assert stored.notes == "" and stored.place == ""  # what was written is gone
    expected = f"Contact van {day_of(extra)} verwijderd: dubbel — twee keer ingevoerd"
    assert ("visit_removed", expected) in timeline_details(case)
    assert audit_rows(extra)[-1] == ("remove", "removed_reason", mediator.id)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert expected in page and "Turnclub Hoboken bellen" not in page
    # Not in the lists, not on Vandaag, not in the reports.
    assert "Turnclub Hoboken bellen" not in client.get("/").get_data(as_text=True)
    assert in_db(lambda: list(models.Task.select().where(models.Task.case == case.id))) == []
    year = Period(dt.date(2000, 1, 1), local_today() + dt.timedelta(days=1))
    table = in_db(lambda: contacts(year))
    assert [row.values[0] for row in table.rows if row.label == "huisbezoek"] == [1]
    assert in_db(lambda: models.Visit.planned_for(case)) == []
    # A second tap, or the form opened again, changes nothing more.
    again = client.post(f"/visits/{extra.id}/remove", data=data)
    assert again.status_code == 303
    assert events_of(case).count("visit_removed") == 1
    assert client.get(f"/visits/{extra.id}/correct").status_code == 404
    assert fresh(kept).removed_at is None


def test_the_offline_queue_cannot_bring_a_removed_contact_back(client, mediator, case) -> None:
    client.login(mediator)
    data = visit_data()
    client.post(f"/cases/{case.id}/visits", data=data)
    [visit] = visits_of(case)
    client.post(f"/visits/{visit.id}/remove", data={"reason": "mistake", "version": "1"})
    # The phone sends its queued copy again (same key): saved once, and it stays removed.
    response = client.post(f"/cases/{case.id}/visits", data=data, headers=JSON)
    assert response.status_code == 200 and response.get_json()["status"] == "duplicate"
    assert len(visits_of(case)) == 1 and fresh(visit).removed_at is not None


def test_removing_a_contact_changed_meanwhile_is_a_409(client, mediator, coordinator, case):
    client.login(mediator)
    visit = record(client, case)
    client.login(coordinator)
    client.post(f"/visits/{visit.id}/correct", data=correction(visit, duration_minutes="20"))
    client.login(mediator)
    response = client.post(
        f"/visits/{visit.id}/remove", data={"reason": "wrong_case", "version": "1"}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Iemand anders wijzigde dit contact" in page
    assert 'value="wrong_case" checked' in page or 'checked id="reason-1"' in page
    assert 'name="version" type="hidden" value="2"' in page
    assert fresh(visit).removed_at is None


def test_removing_the_only_contact_puts_kennismaking_back_with_a_note(client, mediator, case):
    client.login(mediator)
    visit = record(client, case)
    assert step_status(case, "kennismaking") == "done"
    client.post(f"/visits/{visit.id}/remove", data={"reason": "wrong_case", "version": "1"})
    assert step_status(case, "kennismaking") == "todo"
    assert in_db(lambda: models.Case.get_by_id(case.id).current_position) == 2
    undone = [d for kind, d in timeline_details(case) if kind == "step_undone"]
    assert undone == [f"Het contact van {day_of(visit)} werd verwijderd."]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Stap 2/9 · Kennismaking" in page


def test_kennismaking_stays_done_while_another_contact_took_place(client, mediator, case):
    client.login(mediator)
    record(client, case)
    second = record(client, case)
    client.post(f"/visits/{second.id}/remove", data={"reason": "duplicate", "version": "1"})
    assert step_status(case, "kennismaking") == "done"
    assert "step_undone" not in events_of(case) and "step_kept" not in events_of(case)


def test_kennismaking_ticked_by_hand_stays_as_it_was(client, mediator, case) -> None:
    client.login(mediator)
    step_id = in_db(
        lambda: models.StepDefinition.get(models.StepDefinition.key == "kennismaking").id
    )
    client.post(f"/cases/{case.id}/steps/{step_id}", data={"status": "done", "version": "1"})
    visit = record(client, case)
    client.post(f"/visits/{visit.id}/remove", data={"reason": "mistake", "version": "1"})
    assert step_status(case, "kennismaking") == "done"
    assert "step_undone" not in events_of(case)


def test_kennismaking_stays_done_with_a_note_when_later_steps_are_done(client, mediator, case):
    client.login(mediator)
    visit = record(client, case)
    step_id = in_db(
        lambda: models.StepDefinition.get(models.StepDefinition.key == "vraagverheldering").id
    )
    version = in_db(lambda: models.Case.get_by_id(case.id).version)
    client.post(f"/cases/{case.id}/steps/{step_id}", data={"status": "done", "version": version})
    assert step_status(case, "vraagverheldering") == "done"
    client.post(f"/visits/{visit.id}/remove", data={"reason": "mistake", "version": "1"})
    assert step_status(case, "kennismaking") == "done"
    kept = [d for kind, d in timeline_details(case) if kind == "step_kept"]
    assert kept == [
        f"Het contact van {day_of(visit)} werd verwijderd. Latere stappen zijn al gezet."
    ]
    assert "Stap blijft gedaan" in client.get(f"/cases/{case.id}").get_data(as_text=True)


# Planned contacts from the case page


def test_the_case_page_lists_planned_contacts_with_their_actions(client, mediator, case):
    client.login(mediator)
    later = plan(client, case, local_now() + dt.timedelta(days=2))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="case-planned"' in page
    for path in (
        f"/visits/{later.id}/edit",
        f"/visits/{later.id}/move",
        f"/visits/{later.id}/cancel",
    ):
        assert f'href="{path}"' in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_moving_a_planned_contact(client, mediator, case, headers) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() + dt.timedelta(days=1))
    form = client.get(f"/visits/{planned.id}/move", headers=headers)
    assert form.status_code == 200
    assert ("<html" in form.get_data(as_text=True)) == (not headers)
    new_time = (local_now() + dt.timedelta(days=3)).replace(hour=14, minute=0)
    data = {"occurred_at": stamp(new_time), "version": "1"}
    response = client.post(f"/visits/{planned.id}/move", data=data, headers=headers)
    assert response.status_code == (204 if headers else 303)
    stored = fresh(planned)
    assert to_local(stored.occurred_at).replace(tzinfo=None) == new_time
    assert stored.planned and stored.version == 2
    [(_kind, detail)] = [e for e in timeline_details(case) if e[0] == "visit_moved"]
    assert detail.endswith(f"verplaatst naar {new_time.day}/{new_time.month} 14:00")
    assert audit_rows(planned)[-1] == ("move", "occurred_at", mediator.id)


def test_a_plan_cannot_move_into_the_past_nor_over_a_newer_move(client, mediator, case) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() + dt.timedelta(days=1))
    past = {"occurred_at": stamp(local_now() - dt.timedelta(days=1)), "version": "1"}
    response = client.post(f"/visits/{planned.id}/move", data=past)
    assert response.status_code == 422
    assert "Dit moment is al voorbij." in response.get_data(as_text=True)
    first = {"occurred_at": stamp(local_now() + dt.timedelta(days=2)), "version": "1"}
    assert client.post(f"/visits/{planned.id}/move", data=first).status_code == 303
    second = {"occurred_at": stamp(local_now() + dt.timedelta(days=5)), "version": "1"}
    response = client.post(f"/visits/{planned.id}/move", data=second)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Iemand anders verplaatste deze afspraak intussen" in page
    assert second["occurred_at"] in page  # the choice is kept
    assert 'name="version" type="hidden" value="2"' in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_cancel_form_asks_why(client, mediator, case, headers) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() + dt.timedelta(days=1))
    response = client.get(f"/visits/{planned.id}/cancel", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("<html" in page) == (not headers)
    for reason in ("cliënt kan niet", "bemiddelaar kan niet", "niet meer nodig"):
        assert reason in page
    assert 'name="version" type="hidden" value="1"' in page


def test_cancelling_a_planned_contact_takes_it_off_vandaag(client, mediator, case) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() + dt.timedelta(hours=2))
    assert f"/visits/{planned.id}/edit" in client.get("/").get_data(as_text=True)
    missing = client.post(f"/visits/{planned.id}/cancel", data={"version": "1"})
    assert missing.status_code == 422 and "Kies een reden." in missing.get_data(as_text=True)
    data = {"reason": "client", "note": "", "version": "1"}
    assert client.post(f"/visits/{planned.id}/cancel", data=data).status_code == 303
    assert fresh(planned).removed_reason == "client"
    assert f"/visits/{planned.id}/edit" not in client.get("/").get_data(as_text=True)
    assert 'id="case-planned"' not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    moment = to_local(planned.occurred_at)
    expected = (
        f"Afspraak van {moment.day}/{moment.month} {moment:%H:%M} geannuleerd: cliënt kan niet"
    )
    assert ("visit_cancelled", expected) in timeline_details(case)
    assert audit_rows(planned)[-1] == ("cancel", "removed_reason", mediator.id)
    # Registering it now (from an old Vandaag page) is refused: it was cancelled.
    assert client.get(f"/visits/{planned.id}/edit").status_code == 404
    response = client.post(f"/visits/{planned.id}", data=visit_data(version="2"))
    assert response.status_code == 409
    assert "Deze afspraak werd intussen geannuleerd." in response.get_data(as_text=True)
    assert fresh(planned).planned and fresh(planned).removed_at is not None


def test_registering_from_the_case_page_keeps_the_input_when_the_plan_moved(
    client, mediator, coordinator, case
) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() - dt.timedelta(hours=1))
    page = client.get(f"/visits/{planned.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page
    client.login(coordinator)
    moved = {"occurred_at": stamp(local_now() + dt.timedelta(hours=1)), "version": "1"}
    assert client.post(f"/visits/{planned.id}/move", data=moved).status_code == 303
    client.login(mediator)
    data = visit_data(version="1", notes="Het gesprek ging over de zwemclub.")
    response = client.post(f"/visits/{planned.id}", data=data)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Iemand verplaatste deze afspraak intussen" in text
    assert "Het gesprek ging over de zwemclub." in text
    assert client.post(f"/visits/{planned.id}", data={**data, "version": "2"}).status_code == 303
    stored = fresh(planned)
    assert not stored.planned and stored.recorded_at is not None
    assert step_status(case, "kennismaking") == "done"


def test_another_mediator_cannot_touch_a_plan(client, mediator, other_mediator, case) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() + dt.timedelta(days=1))
    client.login(other_mediator)
    for path in ("move", "cancel"):
        assert client.get(f"/visits/{planned.id}/{path}").status_code == 404
        assert client.post(f"/visits/{planned.id}/{path}", data={"version": "1"}).status_code == 404
    assert fresh(planned).planned and fresh(planned).removed_at is None


# Fast recording: the types used most come first


def test_the_types_used_most_come_first_and_the_rest_behind_meer(client, mediator, case):
    client.login(mediator)
    for kind in ("casusoverleg", "casusoverleg", "casusoverleg", "aanbieder", "aanbieder", "loket"):
        record(client, case, contact_type=kind)
    with count_queries() as queries:
        page = client.get(f"/cases/{case.id}/visits/new").get_data(as_text=True)
    top, more = page.split("Meer soorten")
    order = re.findall(r'name="contact_type" type="radio" value="(\w+)"', top)
    assert order == ["casusoverleg", "aanbieder", "loket", "huisbezoek"]
    assert 'value="telefonisch"' in more and 'value="casusoverleg"' not in more
    for kind in ("bericht", "bericht", "telefonisch"):
        record(client, case, contact_type=kind)
    with count_queries() as again:
        client.get(f"/cases/{case.id}/visits/new")
    assert len(again) == len(queries)


def test_a_chosen_type_behind_meer_is_shown_open(client, mediator, case) -> None:
    client.login(mediator)
    planned = plan(client, case, local_now() - dt.timedelta(hours=1))
    in_db(
        lambda: (
            models.Visit.update(contact_type="administratie")
            .where(models.Visit.id == planned.id)
            .execute()
        )
    )
    page = client.get(f"/visits/{planned.id}/edit").get_data(as_text=True)
    top = page.split("Meer soorten")[0]
    assert re.search(
        r'<input checked id="contact_type-\d+" name="contact_type" type="radio" '
        r'value="administratie">',
        top,
    )


def test_the_form_knows_each_types_usual_duration_and_place(client, mediator) -> None:
    client.login(mediator)
    case = make_case(mediator, make_client(street="Turnhoutsebaan 12"))
    page = client.get(f"/cases/{case.id}/visits/new").get_data(as_text=True)
    defaults = re.search(r"data-type-defaults='([^']+)'", page).group(1)
    assert '"huisbezoek": [60, "Bij de cli\\u00ebnt thuis, Turnhoutsebaan 12"]' in defaults
    assert '"telefonisch": [15, ""]' in defaults
    assert "data-fill-defaults" in page
    assert "Wanneer, duur en plaats" in page
