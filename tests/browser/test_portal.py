"""At phone size in Chromium: enrol a client from the case, share the client's link and open it
anonymously in Arabic and Dutch, add it to the calendar, say "I can't come"; then the provider
confirms presence through their link and the case's step tracker moves on."""

from __future__ import annotations

from pathlib import Path

from icalendar import Calendar

from tests.browser.conftest import PHONE, axe_violations, log_in, screenshot
from tests.conftest import make_case
from tests.test_activities import make_activity, steps_done_before
from webapp.timeutil import LOCAL, local_today


def test_enrol_share_open_the_client_page_and_confirm_presence(
    page, browser, live_server, mediator
) -> None:
    case = make_case(mediator)  # Amina Bouzid, who reads Arabic
    steps_done_before(case, 6)  # the mediator and Amina chose together: next is Inschrijving
    make_activity(title="Zwemles voor kinderen", what_to_bring="zwemkledij, handdoek")
    base = live_server

    # The mediator finds an activity and enrols Amina.
    log_in(page, base, mediator)
    page.goto(f"{base}/cases/{case.id}")
    page.get_by_role("link", name="Inschrijven voor een activiteit").click()
    page.get_by_label("Zoeken").fill("zwem")
    page.get_by_role("link", name="Zwemles voor kinderen").click()
    assert axe_violations(page) == []
    page.get_by_label("Eerste keer: datum").fill(local_today().isoformat())
    page.get_by_label("Uur", exact=True).fill("23:30")
    page.get_by_label("Afspraakplaats").fill("aan de kassa van het zwembad")
    page.get_by_label("Ik ga mee de eerste keer").check()
    page.get_by_label("Daarna elke week, zoveel keer").fill("2")
    screenshot(page, "offer-enrol-form")
    page.get_by_role("button", name="Inschrijven").click()
    page.wait_for_url(f"{base}/cases/{case.id}*")
    assert "Amina is ingeschreven voor Zwemles voor kinderen." in page.content()

    # … and shares her personal link.
    page.get_by_role("button", name="Link maken en delen").click()
    share = page.locator("#share-box-client")
    share.wait_for()
    client_url = share.locator(".share-url").input_value()
    assert "/p/" in client_url
    assert share.locator("svg").count() == 1
    screenshot(page, "offer-share-box")

    # Amina opens it on her own phone: no login, in Arabic.
    amina = browser.new_context(**PHONE)
    client_page = amina.new_page()
    client_page.goto(client_url)
    assert client_page.locator("html").get_attribute("dir") == "rtl"
    assert client_page.get_by_role("heading", name="Zwemles voor kinderen").is_visible()
    assert "نشاطك القادم" in client_page.content()
    screenshot(client_page, "offer-client-page-ar")
    assert axe_violations(client_page) == []

    client_page.get_by_role("link", name="Nederlands").click()
    client_page.wait_for_url("**lang=nl")
    assert client_page.locator("html").get_attribute("lang") == "nl"
    assert "om 23.30 uur" in client_page.content()
    assert "aan de kassa van het zwembad" in client_page.content()
    screenshot(client_page, "offer-client-page-nl")
    assert axe_violations(client_page) == []

    with client_page.expect_download() as download:
        client_page.get_by_role("link", name="Zet in mijn agenda").click()
    calendar = Calendar.from_ical(Path(download.value.path()).read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == 3
    first = events[0].decoded("dtstart").astimezone(LOCAL)
    assert (first.date(), first.hour, first.minute) == (local_today(), 23, 30)

    client_page.get_by_text("Ik kan niet komen").first.click()
    client_page.get_by_label("Wil je iets zeggen? (mag leeg blijven)").first.fill(
        "Ik moet op mijn broertje passen."
    )
    client_page.get_by_role("button", name="Stuur naar Sara").first.click()
    assert client_page.get_by_text("Sara weet nu dat je niet kan komen.").is_visible()
    screenshot(client_page, "offer-client-page-cant-come")

    # The mediator sees the message on the case and sends the provider their link.
    page.reload()
    assert "Ik moet op mijn broertje passen." in page.content()
    page.get_by_role("button", name="Link voor aanbieder").click()
    provider_share = page.locator(".enrolment .share-box")
    provider_share.wait_for()
    provider_url = provider_share.locator(".share-url").input_value()
    assert "/a/" in provider_url

    provider = browser.new_context(**PHONE)
    provider_page = provider.new_page()
    provider_page.goto(provider_url)
    assert "Amina B." in provider_page.content() and "Bouzid" not in provider_page.content()
    assert axe_violations(provider_page) == []
    screenshot(provider_page, "offer-provider-page")
    provider_page.get_by_role("button", name="Aanwezig", exact=True).click()
    assert provider_page.get_by_text("Bewaard: Amina was er.").is_visible()

    # On the case: the presence, and the tracker moved from "Eerste keer samen" to "Opvolging".
    page.goto(f"{base}/cases/{case.id}")
    assert "(door aanbieder)" in page.content()
    assert "Opvolging" in page.locator(".steps li.current").text_content()
    assert "Stap 8/9" in page.content()
    screenshot(page, "offer-case-after-presence")
    amina.close()
    provider.close()


def test_the_activity_list_is_accessible_at_phone_size(page, live_server, mediator) -> None:
    for i in range(3):
        make_activity(title=f"Activiteit {i}")
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/activities/")
    page.get_by_text("Filters").click()
    page.get_by_label("Domein").select_option("sport")
    page.get_by_role("link", name="Activiteit 1").wait_for()
    screenshot(page, "offer-activity-list")
    assert axe_violations(page) == []
