"""Search on a phone: typing a name without its accents finds the person while typing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_case, make_client


@pytest.mark.parametrize("width", [320, 360, 412])
def test_typing_celik_finds_ayse_celik_while_typing(page, live_server, mediator, width) -> None:
    make_case(mediator, make_client(first_name="Ayşe", last_name="Çelik", language="tr"))
    make_case(mediator, make_client(first_name="Zofia", last_name="Wiśniewska", language="pl"))
    make_case(mediator, make_client(first_name="Kasia", last_name="Nowak", language="pl"))
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/cases/")
    results = page.locator("#case-results")
    expect(results).to_contain_text("Kasia Nowak")

    # Active search: no button pressed, no accent typed.
    page.get_by_label("Zoek op naam, telefoon of district").press_sequentially("celik")
    expect(results).not_to_contain_text("Kasia")
    expect(results.get_by_role("link", name="Ayşe Çelik")).to_be_visible()
    expect(page).to_have_url(f"{live_server}/cases/?q=celik&step=&status=open")
    screenshot(page, f"search-celik-{width}")

    page.get_by_label("Zoek op naam, telefoon of district").fill("wisniewska")
    expect(results.get_by_role("link", name="Zofia Wiśniewska")).to_be_visible()
    expect(results).not_to_contain_text("Çelik")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
