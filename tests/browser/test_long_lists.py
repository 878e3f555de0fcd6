"""A coordinator's long lists on a phone: a page at a time, "Meer tonen" for the rest, and
nothing wider than the screen."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, log_in, screenshot
from tests.conftest import in_db, make_case, make_client, make_user
from tests.test_retention import NOW, closed
from webapp import models
from webapp.models import TEAM_PAGE_SIZE
from webapp.models.privacy import months_before
from webapp.privacy import DUE_PAGE_SIZE


def test_the_list_to_erase_shows_a_page_at_a_time_at_320_px(
    page: Any, live_server: str, coordinator, mediator
) -> None:
    n = DUE_PAGE_SIZE + 3
    for i in range(n):
        case = make_case(mediator, make_client(first_name=f"Elif{i:02}", last_name="Çelik"))
        closed(case, months_before(NOW, 30), mediator)
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, live_server, coordinator)
    page.goto(f"{live_server}/privacy/te-wissen")
    items = page.locator("#due li.item")
    expect(items).to_have_count(DUE_PAGE_SIZE)
    more = page.get_by_role("link", name="Meer tonen")
    more.scroll_into_view_if_needed()
    screenshot(page, "te-wissen-320")
    page.screenshot(path=str(ARTIFACTS / "te-wissen-320-more.png"))  # what the thumb reaches
    more.click()
    expect(items).to_have_count(n)
    expect(page.get_by_role("link", name="Meer tonen")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_choosing_a_colleague_in_a_big_team_at_320_px(
    page: Any, live_server: str, coordinator, mediator
) -> None:
    """Thirty colleagues: twenty radios, "Meer tonen" for the rest (keeping who was chosen),
    and a search that finds Özlem typed without her accents; the case goes to her in two
    thumbs."""
    for i in range(TEAM_PAGE_SIZE + 8):
        make_user(f"c{i:02d}@vrijbaan.test", f"Collega {i:02d}")
    ozlem = make_user("ozlem@vrijbaan.test", "Özlem Çelik", languages="tr")
    case = make_case(mediator)
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, live_server, coordinator)
    page.goto(f"{live_server}/cases/{case.id}/assign")
    radios = page.locator('input[name="mediator"]')
    expect(radios).to_have_count(TEAM_PAGE_SIZE)
    screenshot(page, "assign-320")
    page.get_by_label("Collega 03").check()
    page.get_by_role("link", name="Meer tonen").click()
    expect(radios).to_have_count(TEAM_PAGE_SIZE + 11)  # Sara, Özlem and the coordinator
    expect(page.get_by_label("Collega 03")).to_be_checked()  # the choice made stays
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_label("Zoek een collega").fill("ozlem")
    page.get_by_role("button", name="Zoeken").click()
    expect(radios).to_have_count(1)
    page.get_by_label("Özlem Çelik").check()
    screenshot(page, "assign-320-found")
    page.get_by_role("button", name="Toewijzen").click()
    expect(page.get_by_text("Dossier toegewezen aan Özlem Çelik.")).to_be_visible()
    assert in_db(lambda: models.Case.get_by_id(case.id).mediator_id) == ozlem.id


def test_the_users_list_a_page_at_a_time_at_320_px(
    page: Any, live_server: str, coordinator
) -> None:
    for i in range(TEAM_PAGE_SIZE + 4):
        make_user(f"c{i:02d}@vrijbaan.test", f"Collega {i:02d}")
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, live_server, coordinator)
    page.goto(f"{live_server}/admin/users")
    items = page.locator("#users ul.list > li:not(.load-more)")
    expect(items).to_have_count(TEAM_PAGE_SIZE)
    page.get_by_role("link", name="Meer tonen").click()
    expect(items).to_have_count(TEAM_PAGE_SIZE + 5)
    page.get_by_label("Zoek op naam of e-mailadres").fill("collega 07")
    page.get_by_role("button", name="Zoeken").click()
    expect(items).to_have_count(1)
    screenshot(page, "users-320-found")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
