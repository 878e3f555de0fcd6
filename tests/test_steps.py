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
