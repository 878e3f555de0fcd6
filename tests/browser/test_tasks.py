"""To-dos on a phone: a visit's to-do shows on the case page beside an older late one and on
Vandaag, is ticked off there in place and can be opened again; a referral accepted for the
mediator shows its first contact as "nieuw"."""

from __future__ import annotations

import datetime as dt
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, log_in, screenshot
from tests.conftest import in_db, make_case, make_client, make_task
from webapp import models
from webapp.db import database
from webapp.timeutil import local_today, utcnow

NARROW = {"width": 360, "height": 780}


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_visits_to_do_is_on_the_case_and_on_vandaag_and_ticked_off_there(
    page, live_server, mediator
) -> None:
    page.set_viewport_size(NARROW)
    case = make_case(
        mediator,
        make_client(first_name="Lucía", last_name="García", district="Hoboken"),
        opened_at=utcnow() - dt.timedelta(days=20),
    )
    make_task(case, "Attest OCMW opvragen", local_today() - dt.timedelta(days=3))
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/cases/{case.id}/visits/new")
    page.get_by_text("telefonisch", exact=True).tap()
    page.get_by_label("Te doen").fill("Turnclub Hoboken bellen")
    page.get_by_role("button", name="morgen").tap()
    page.get_by_role("button", name="Contact bewaren").tap()
    page.wait_for_url(f"{live_server}/cases/{case.id}")

    # Both open to-dos on the case, the late one first; the visit says what it planned.
    todo = page.locator("#case-tasks")
    expect(todo.get_by_role("heading", name="Te doen")).to_be_visible()
    rows = todo.locator("li.task-item")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Attest OCMW opvragen")
    expect(rows.nth(0)).to_contain_text("Te laat")
    expect(rows.nth(1)).to_contain_text("Turnclub Hoboken bellen")
    expect(page.locator("#case-timeline")).to_contain_text("Te doen: Turnclub Hoboken bellen")
    assert fits(page)
    assert axe_violations(page) == []
    screenshot(page, "tasks-case-360")

    # On Vandaag, with the client's name; ticked off in place, and back again.
    page.get_by_role("link", name="Vandaag").first.click()
    page.wait_for_url(f"{live_server}/")
    today = page.locator("#today-tasks")
    row = today.locator("li.task-item", has_text="Turnclub Hoboken bellen")
    expect(row).to_contain_text("Lucía García")
    expect(row).to_contain_text("tegen morgen")
    assert fits(page)
    assert axe_violations(page) == []
    screenshot(page, "tasks-today-360")
    row.get_by_role("button", name="Gedaan").tap()
    expect(row.get_by_role("button", name="Toch niet gedaan")).to_be_visible()
    expect(row.get_by_role("button", name="Toch niet gedaan")).to_be_focused()
    expect(page.locator("[role=status]").first).to_contain_text("Taak gedaan")
    done = in_db(lambda: models.Task.get(models.Task.text == "Turnclub Hoboken bellen"))
    assert done.done_at is not None and done.done_by_id == mediator.id
    screenshot(page, "tasks-today-done-360")
    row.get_by_role("button", name="Toch niet gedaan").tap()
    expect(row.get_by_role("button", name="Gedaan")).to_be_visible()
    row.get_by_role("button", name="Gedaan").tap()
    expect(row.get_by_role("button", name="Toch niet gedaan")).to_be_visible()

    # The case page lists only what is still open.
    page.goto(f"{live_server}/cases/{case.id}")
    expect(page.locator("#case-tasks li.task-item")).to_have_count(1)
    expect(page.locator("#case-tasks")).not_to_contain_text("Turnclub Hoboken bellen")


def test_add_a_to_do_on_the_case(page, live_server, mediator) -> None:
    page.set_viewport_size(NARROW)
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/cases/{case.id}")
    todo = page.locator("#case-tasks")
    todo.get_by_text("Taak toevoegen").tap()
    todo.get_by_role("button", name="Toevoegen").tap()
    expect(todo.get_by_text("Schrijf kort wat er te doen is.")).to_be_visible()
    todo.get_by_label("Wat moet er gebeuren?").fill("Fiets regelen voor de training")
    todo.get_by_role("button", name="volgende week").tap()
    todo.get_by_role("button", name="Toevoegen").tap()
    row = page.locator("#case-tasks li.task-item")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Fiets regelen voor de training")
    assert page.url == f"{live_server}/cases/{case.id}"  # swapped in place, no page load
    assert fits(page)
    screenshot(page, "tasks-added-360")


def test_a_referral_accepted_for_me_is_new_on_vandaag(page, live_server, mediator, coordinator):
    page.set_viewport_size(NARROW)
    with database.connection_context():
        organisation = models.ReferringOrganisation.create(
            name="Huis van het Kind Hoboken", kind="huis_van_het_kind"
        )
        referral = models.Referral.submit(
            organisation,
            idempotency_key=uuid.uuid4().hex,
            referrer_name="Lies Verbruggen",
            referrer_role="maatschappelijk werker",
            referrer_email="lies.verbruggen@hvhk.example",
            referrer_phone="03 288 12 34",
            first_name="Oksana",
            last_name="Melnyk",
            question="Oksana turnde in Charkiv en mist het.",
            first_contact="huisbezoek",
            submitted_at=utcnow() - dt.timedelta(days=1),
        )
        case = referral.accept(coordinator, mediator, None)
    log_in(page, live_server, mediator)
    row = page.locator("#today-tasks li.task-item", has_text="Eerste contact: huisbezoek")
    expect(row).to_contain_text("nieuw")
    expect(row).to_contain_text("Oksana Melnyk")
    screenshot(page, "tasks-today-new-360")
    row.get_by_role("link", name="Eerste contact: huisbezoek").click()
    page.wait_for_url(f"{live_server}/cases/{case.id}#case-tasks")
    request = page.locator("#case-referral")
    expect(request).to_contain_text("Lies Verbruggen")
    expect(request.get_by_role("link", name="03 288 12 34")).to_have_attribute(
        "href", "tel:032881234"
    )
    assert fits(page)
    assert axe_violations(page) == []
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "tasks-referral-case-360")
