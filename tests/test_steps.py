"""The step engine: the current step is derived from the steps, steps move by hand and by
events, and every change lands on the case's timeline with who did it."""

from __future__ import annotations

import uuid

from tests.conftest import in_db, make_case
from webapp.models import DEFAULT_STEPS, CaseEvent, CaseStep, StepDefinition, Visit
from webapp.timeutil import utcnow


def statuses(case) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return in_db(lambda: {s.step.key: s.status for s in case.steps()})


def step(case, key: str) -> CaseStep:  # type: ignore[no-untyped-def]
    return in_db(
        lambda: (
            CaseStep.select(CaseStep, StepDefinition)
            .join(StepDefinition)
            .where(CaseStep.case == case, StepDefinition.key == key)
            .get()
        )
    )


def set_status(case, key: str, status: str, by, note: str = "") -> None:  # type: ignore[no-untyped-def]
    def change() -> None:
        step(case, key).set_status(status, by, note)
        case.refresh_position()

    in_db(change)


def kinds(case) -> list[str]:  # type: ignore[no-untyped-def]
    return in_db(lambda: [e.kind for e in CaseEvent.timeline(case)])


def test_the_nine_default_steps_are_data(app) -> None:
    labels = in_db(lambda: [s.label for s in StepDefinition.ordered()])
    assert labels == [label for _, _, label, _ in DEFAULT_STEPS]
    assert labels[0] == "Aanmelding" and labels[-1] == "Afronding" and len(labels) == 9


def test_a_new_case_has_aanmelding_done_and_kennismaking_current(mediator) -> None:
    case = make_case(mediator)
    assert statuses(case)["aanmelding"] == "done"
    assert [s for s, v in statuses(case).items() if v == "done"] == ["aanmelding"]
    assert case.current_position == 2
    assert kinds(case) == ["step_auto", "opened"]


def test_current_step_is_the_first_neither_done_nor_skipped(mediator) -> None:
    case = make_case(mediator)
    set_status(case, "vraagverheldering", "done", mediator)  # a later step done first
    assert case.current_position == 2  # Kennismaking is still the first open one
    set_status(case, "kennismaking", "skipped", mediator)
    assert case.current_position == 4  # past the skipped and the done step
    set_status(case, "vraagverheldering", "todo", mediator)
    assert case.current_position == 3


def test_mark_skip_and_undo_each_land_on_the_timeline_with_who_and_note(
    mediator, coordinator
) -> None:
    case = make_case(mediator)
    set_status(case, "kennismaking", "done", mediator, note="Huisbezoek met tolk")
    set_status(case, "vraagverheldering", "skipped", coordinator, note="Vraag was al duidelijk")
    set_status(case, "vraagverheldering", "todo", mediator)
    events = in_db(lambda: list(CaseEvent.timeline(case)))
    assert [e.kind for e in events[:3]] == ["step_undone", "step_skipped", "step_done"]
    assert events[2].step.label == "Kennismaking" and events[2].detail == "Huisbezoek met tolk"
    assert events[1].actor.name == "Els Janssens" and events[1].step.key == "vraagverheldering"
    stored = step(case, "kennismaking")
    assert stored.changed_by_id == mediator.id and stored.changed_at and stored.note


def test_the_first_visit_with_contact_made_completes_kennismaking(mediator) -> None:
    case = make_case(mediator)

    def record(contact_made: bool) -> None:
        visit = Visit.create(
            case=case,
            mediator=mediator,
            contact_type="huisbezoek",
            occurred_at=utcnow(),
            contact_made=contact_made,
            idempotency_key=uuid.uuid4().hex,
        )
        CaseEvent.create(case=case, actor=mediator, kind="visit", visit=visit)
        if contact_made:
            case.complete_step_by_event("first_contact", mediator)
            case.refresh_position()

    in_db(lambda: record(False))  # nobody home: nothing completes
    assert statuses(case)["kennismaking"] == "todo"
    in_db(lambda: record(True))
    assert statuses(case)["kennismaking"] == "done" and case.current_position == 3
    in_db(lambda: record(True))  # a second visit does not complete it again
    assert kinds(case).count("step_auto") == 2  # Aanmelding and Kennismaking, once each
    assert kinds(case)[:2] == ["visit", "step_auto"]


def test_an_event_does_not_redo_a_skipped_step(mediator) -> None:
    case = make_case(mediator)
    set_status(case, "kennismaking", "skipped", mediator)
    assert in_db(lambda: case.complete_step_by_event("first_contact", mediator)) is None
    assert statuses(case)["kennismaking"] == "skipped"


def test_closing_completes_afronding_and_reopening_undoes_it(mediator) -> None:
    case = make_case(mediator)
    in_db(lambda: case.close("unreachable", "", "Drie keer gebeld", mediator))
    assert statuses(case)["afronding"] == "done" and case.status == "closed"
    in_db(lambda: case.reopen(mediator))
    assert statuses(case)["afronding"] == "todo" and case.status == "open"
    assert kinds(case)[:4] == ["step_undone", "reopened", "step_auto", "closed"]


def test_all_steps_set_leaves_the_last_position(mediator) -> None:
    case = make_case(mediator)
    for key in ("kennismaking", "vraagverheldering", "rechten", "zoeken", "inschrijving"):
        set_status(case, key, "done", mediator)
    for key in ("eerste_keer", "opvolging", "afronding"):
        set_status(case, key, "skipped", mediator)
    assert case.current_position == 9


# --- An event completes the open steps before its own (the tracker never lies) --------------


def auto_details(case) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Step key → what the timeline says did it, for the steps completed by an event."""
    return in_db(
        lambda: {
            e.step.key: e.detail
            for e in CaseEvent.timeline(case)
            if e.kind == "step_auto" and e.step_id
        }
    )


def test_enrolling_at_zoeken_completes_zoeken_and_inschrijving(client, mediator) -> None:
    from tests.test_activities import enrol_data, make_activity

    case = make_case(mediator)
    for key in ("kennismaking", "vraagverheldering"):
        set_status(case, key, "done", mediator, note="met de hand")
    set_status(case, "rechten", "skipped", mediator, note="heeft al een kaart")
    activity = make_activity(title="Turnen Hoboken")
    client.login(mediator)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Stap 5/9 · Zoeken &amp; kiezen" in page
    response = client.post(
        f"/activities/cases/{case.id}/enrol/{activity.id}", data=enrol_data(), follow_redirects=True
    )
    assert response.status_code == 200
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    # The tracker says where the case really is: enrolled, the first time together next.
    assert "Stap 7/9 · Eerste keer samen" in page
    now = statuses(case)
    assert now["zoeken"] == now["inschrijving"] == "done"
    # What was done or skipped by hand stays as it was, with its note and who.
    assert now["rechten"] == "skipped" and step(case, "rechten").note == "heeft al een kaart"
    assert step(case, "vraagverheldering").note == "met de hand"
    # The timeline shows both as done by the enrolment.
    assert auto_details(case)["zoeken"] == auto_details(case)["inschrijving"]
    assert auto_details(case)["inschrijving"] == "door de inschrijving"
    assert "door de inschrijving" in page


def test_attendance_and_first_contact_complete_the_steps_before_theirs(mediator) -> None:
    case = make_case(mediator)
    in_db(lambda: case.complete_step_by_event("attended", mediator))
    in_db(case.refresh_position)
    assert set(list(statuses(case).values())[:7]) == {"done"}
    assert statuses(case)["opvolging"] == "todo" and case.current_position == 8
    assert auto_details(case)["kennismaking"] == "door de eerste keer samen"
    # First contact: Kennismaking, Aanmelding was done when the case opened.
    other = make_case(mediator)
    in_db(lambda: other.complete_step_by_event("first_contact", mediator))
    assert [k for k, v in statuses(other).items() if v == "done"] == ["aanmelding", "kennismaking"]


def test_an_event_whose_step_was_done_by_hand_completes_nothing_else(mediator) -> None:
    # A mediator who opened "Zoeken & kiezen" again to look for a second activity: the next
    # enrolment or attendance of the first one must not tick it off behind their back.
    case = make_case(mediator)
    set_status(case, "inschrijving", "done", mediator)
    assert in_db(lambda: case.complete_step_by_event("enrolled", mediator)) is None
    assert statuses(case)["zoeken"] == "todo" and statuses(case)["kennismaking"] == "todo"


def test_closing_early_does_not_pretend_the_steps_were_done(mediator) -> None:
    case = make_case(mediator)
    in_db(lambda: case.close("unreachable", "", "", mediator))
    assert statuses(case)["afronding"] == "done"
    assert [k for k, v in statuses(case).items() if v == "done"] == ["aanmelding", "afronding"]
