"""The mediator's journey on a phone: find a client by typing part of the name, open the case,
record a contact, move a step, close the case — with axe on the caseload and the case page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, log_in, screenshot
from tests.conftest import in_db, make_case, make_client
from webapp import models


def test_find_open_record_move_and_close(page, live_server, mediator) -> None:
    case = make_case(
        mediator,
        make_client(card_type="uitpas", question="Zwemles"),
        question="Zoekt een zwemclub voor haar dochter",
    )
    make_case(mediator, make_client(first_name="Kasia", last_name="Nowak", language="pl"))
    make_case(mediator, make_client(first_name="Mehmet", last_name="Yilmaz", language="tr"))
    log_in(page, live_server, mediator)

    # The caseload, through the tab bar.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Dossiers").tap()
    page.wait_for_url(f"{live_server}/cases/")
    results = page.locator("#case-results")
    expect(results).to_contain_text("Kasia Nowak")
    assert axe_violations(page) == []
    screenshot(page, "journey-1-caseload")

    # Instant search: typing part of the name narrows the list and the address follows.
    page.get_by_label("Zoek op naam, telefoon of district").press_sequentially("bouz")
    expect(results).not_to_contain_text("Kasia")
    expect(results).to_contain_text("Amina Bouzid")
    expect(page).to_have_url(f"{live_server}/cases/?q=bouz&step=&status=open")
    screenshot(page, "journey-2-search")

    # Open the case.
    results.get_by_role("link", name="Amina Bouzid").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}")
    tracker = page.locator("#step-tracker")
    expect(tracker).to_contain_text("Stap 2/9 · Kennismaking")
    assert axe_violations(page) == []
    screenshot(page, "journey-3-case")

    # Record a visit: the first contact completes Kennismaking.
    page.get_by_role("link", name="Contact registreren").first.tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}/visits/new")
    page.get_by_text("huisbezoek", exact=True).tap()
    page.get_by_label("Notities").fill("Kennisgemaakt met mama en Amina.")
    page.get_by_role("button", name="Contact bewaren").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}")
    expect(tracker).to_contain_text("Stap 3/9 · Vraagverheldering")
    expect(page.locator("#case-timeline")).to_contain_text("huisbezoek")

    # Move a step: the tracker changes in place, the change is announced and focused.
    tracker.get_by_label("Notitie bij Vraagverheldering (mag leeg)").fill("Wil zwemmen op woensdag")
    tracker.get_by_role("button", name="Gedaan").tap()
    expect(tracker).to_contain_text("Stap 4/9 · Rechten & budget")
    expect(page.locator("#status")).to_contain_text("Stap Vraagverheldering gedaan.")
    expect(page.locator("#step-tracker .step-summary")).to_be_focused()
    assert page.url == f"{live_server}/cases/{case.id}"  # swapped, not a new page
    first_event = page.locator("#case-timeline li").first
    expect(first_event).to_contain_text("Vraagverheldering")
    expect(first_event).to_contain_text("Wil zwemmen op woensdag")
    tracker.get_by_text("Alle stappen").tap()
    expect(tracker.locator("li", has_text="Vraagverheldering")).to_contain_text(
        "Wil zwemmen op woensdag"
    )
    screenshot(page, "journey-4-step-moved")

    # Close the case with an outcome.
    page.get_by_text("Meer", exact=True).tap()
    page.get_by_role("link", name="Dossier afronden").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}/close")
    page.get_by_label("neemt zelfstandig deel").check()
    page.get_by_label("Notitie").fill("Zwemt nu elke woensdag bij de club.")
    page.get_by_role("button", name="Dossier afronden").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}")
    expect(page.locator(".notice")).to_contain_text("neemt zelfstandig deel")
    expect(tracker).to_contain_text("Dossier afgerond")
    screenshot(page, "journey-5-closed")
    stored = in_db(lambda: models.Case.get_by_id(case.id))
    assert stored.status == "closed" and stored.outcome == "independent"
