"""Recording a contact on a phone: open the case, tap a type, save, see it on the timeline."""

from __future__ import annotations

import datetime as dt
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, log_in, screenshot
from tests.conftest import in_db, make_case
from webapp import models
from webapp.timeutil import local_today, to_utc


def visits_of(case: models.Case) -> list[models.Visit]:
    return in_db(lambda: list(models.Visit.select().where(models.Visit.case == case.id)))


def test_record_a_visit_from_the_case_page(page, live_server, mediator) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/cases/{case.id}")
    page.get_by_role("link", name="Contact registreren").first.click()
    page.wait_for_url(f"{live_server}/cases/{case.id}/visits/new")
    assert axe_violations(page) == []
    screenshot(page, "visit-form-390")
    page.get_by_text("telefonisch", exact=True).tap()
    page.get_by_text("Wanneer, duur en plaats").tap()
    page.get_by_role("button", name="15 min").tap()
    assert page.get_by_label("Duur (minuten)").input_value() == "15"
    page.get_by_label("Notities").fill("Mama belt terug over de zwemclub.")
    page.get_by_role("button", name="morgen").tap()
    page.get_by_label("Te doen").fill("Zwemclub Borgerhout bellen")
    page.get_by_role("button", name="Contact bewaren").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}")
    # The case page opens at the top, with the confirmation in sight (not at the form's scroll).
    expect(page.get_by_text("Contact bewaard.").first).to_be_in_viewport()
    assert page.evaluate("window.scrollY") == 0
    timeline = page.locator("#case-timeline")
    assert "telefonisch" in timeline.inner_text()
    assert "Zwemclub Borgerhout bellen" in page.locator("#case-tasks").inner_text()
    screenshot(page, "visit-saved-case")
    [visit] = visits_of(case)
    assert (visit.contact_type, visit.duration_minutes) == ("telefonisch", 15)

    # Tick off the to-do: the row changes in place.
    page.locator("#case-tasks").get_by_role("button", name="Gedaan").tap()
    page.locator("#case-tasks").get_by_role("button", name="Toch niet gedaan").wait_for()


def test_a_double_tap_on_save_makes_one_visit(page, live_server, mediator) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/cases/{case.id}/visits/new")
    page.get_by_text("huisbezoek", exact=True).tap()
    page.get_by_role("button", name="Contact bewaren").dblclick()
    page.wait_for_url(f"{live_server}/cases/{case.id}")
    page.wait_for_load_state("networkidle")
    assert len(visits_of(case)) == 1


def test_a_bad_form_shows_the_error_next_to_the_field(page, live_server, mediator) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server}/cases/{case.id}/visits/new")
    page.get_by_label("Notities").fill("Niet thuis.")
    page.get_by_role("button", name="Contact bewaren").tap()
    page.get_by_text("Kies de soort contact.").wait_for()
    assert page.get_by_label("Notities").input_value() == "Niet thuis."
    assert axe_violations(page) == []
    screenshot(page, "visit-form-error-320")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert visits_of(case) == []


def test_vandaag_on_a_phone(page, live_server, mediator) -> None:
    case = make_case(mediator)
    tonight = to_utc(dt.datetime.combine(local_today(), dt.time(23, 30)))
    in_db(
        lambda: models.Visit.create(
            case=case.id,
            mediator=mediator.id,
            contact_type="huisbezoek",
            occurred_at=tonight,
            planned=True,
            place="Thuis, Turnhoutsebaan 12",
            idempotency_key=str(uuid.uuid4()),
        )
    )
    log_in(page, live_server, mediator)
    assert page.get_by_text("Thuis, Turnhoutsebaan 12").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "today-390")
    page.get_by_role("link", name="Registreren").tap()
    page.get_by_role("heading", name="Gepland contact registreren").wait_for()
    page.get_by_role("button", name="Contact bewaren").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}")
    assert not visits_of(case)[0].planned
