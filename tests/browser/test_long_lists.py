"""A coordinator's long lists on a phone: a page at a time, "Meer tonen" for the rest, and
nothing wider than the screen."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, log_in, screenshot
from tests.conftest import make_case, make_client
from tests.test_retention import NOW, closed
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
