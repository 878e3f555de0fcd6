"""At phone size in Chromium: enrol a client from the case, share the client's link and open it
anonymously in Arabic and Dutch, add it to the calendar, say "I can't come"; then the provider
confirms presence through their link and the case's step tracker moves on."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, PHONE, axe_violations, log_in, screenshot
from tests.conftest import make_case
from tests.test_activities import make_activity, steps_done_before
from webapp.timeutil import LOCAL, local_today


def test_enrol_share_open_the_client_page_and_confirm_presence(
    page, browser, live_server, mediator
) -> None:
    case = make_case(mediator)  # Amina Bouzid, who reads Arabic
    steps_done_before(case, 6)  # the mediator and Amina chose together: next is Inschrijving
    # No age limits: the chooser shows only what fits Amina's age.
    make_activity(
        title="Zwemles voor kinderen",
        what_to_bring="zwemkledij, handdoek",
        age_min=None,
        age_max=None,
    )
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
    page.get_by_label("Aan het onthaal.").check()
    page.get_by_label("Meer over de afspraakplaats").fill("aan de kassa van het zwembad")
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
    assert "Aan het onthaal." in client_page.content()
    assert "aan de kassa van het zwembad" in client_page.content()
    screenshot(client_page, "offer-client-page-nl")
    assert axe_violations(client_page) == []

    with client_page.expect_download() as download:
        client_page.get_by_role("link", name="Zet in de agenda van je telefoon").click()
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
    expect(client_page.get_by_text("Sara weet nu dat je niet kan komen.")).to_be_visible()
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
    provider_page.get_by_role("button", name=re.compile(r"^Aanwezig\W+Amina B")).click()
    assert provider_page.get_by_text("Bewaard: Amina was er.").is_visible()

    # On the case: the presence, and the tracker moved from "Eerste keer samen" to "Opvolging".
    page.goto(f"{base}/cases/{case.id}")
    assert "(bevestigd door KFC Olympia Borgerhout)" in page.content()
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


SPEECH_STUB = """
(() => {
  window.__voices = %s;
  window.__spoken = [];
  const synth = window.speechSynthesis;
  Object.defineProperty(synth, "getVoices", {value: () => window.__voices});
  const speak = (u) => window.__spoken.push({text: u.text, lang: u.lang});
  Object.defineProperty(synth, "speak", {value: speak});
})();
"""
SIDEWAYS = """(width) => [...document.querySelectorAll("body *")]
  .filter((e) => { const r = e.getBoundingClientRect();
                   return r.width && r.right > width + 1 && r.left < width; })
  .map((e) => `${e.tagName}.${e.className}`)"""


def client_link(page, live_server, mediator, language: str = "ar") -> str:
    """Enrol Amina with chosen phrases and return her personal link, made as the mediator."""
    from tests.conftest import in_db, make_client
    from tests.test_activities import enrol
    from webapp import models
    from webapp.db import database

    client = make_client(language=language)
    case = make_case(mediator, client)
    activity = make_activity(
        title="Zwemles voor kinderen",
        what_to_bring="1 euro voor het kastje",
        bring_keys="swimwear,towel,uitpas",
    )
    enrolment = enrol(case, activity, mediator)
    with database.connection_context():
        models.Session.update(meeting_point_key="entrance").where(
            models.Session.enrolment == enrolment.id
        ).execute()
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/cases/{case.id}")
    page.get_by_role("button", name="Link maken en delen").click()
    page.locator("#share-box-client").wait_for()
    assert in_db(lambda: models.AccessLink.select().count()) == 1
    return page.locator("#share-box-client .share-url").input_value()


@pytest.mark.parametrize("language", ["ar", "pl"])
def test_the_client_page_at_320_and_360_px(page, browser, live_server, mediator, language) -> None:
    url = client_link(page, live_server, mediator)
    for width in (320, 360):
        context = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": 740}})
        context.add_init_script(SPEECH_STUB % "[]")
        client_page = context.new_page()
        client_page.goto(f"{url}?lang={language}", wait_until="networkidle")
        html = client_page.locator("html")
        assert html.get_attribute("lang") == language
        assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert client_page.evaluate(SIDEWAYS, width) == []
        # What Sara typed stays Dutch, marked and tagged as such.
        dutch = client_page.locator('bdi[lang="nl"]').all_text_contents()
        assert dutch == ["aan de ingang", "1 euro voor het kastje"]
        assert client_page.locator(".lang-mark").count() == 2
        # Every icon stands beside a word.
        for icon in client_page.locator(".link-page svg.icon").all():
            assert icon.evaluate("e => e.parentElement.textContent.trim().length > 1")
        # The map arrow points along the reading direction, toward its words.
        arrow = client_page.locator(".map-link > [aria-hidden=true]").first
        mirrored = arrow.evaluate("e => getComputedStyle(e).transform") != "none"
        assert mirrored == (language == "ar")
        screenshot(client_page, f"portal-client-{language}-{width}")
        assert axe_violations(client_page) == []
        context.close()


def test_read_aloud_shows_only_with_a_voice_for_the_page_language(
    page, browser, live_server, mediator
) -> None:
    url = client_link(page, live_server, mediator)
    context = browser.new_context(**PHONE)
    context.add_init_script(SPEECH_STUB % '[{"lang": "en-US", "name": "English"}]')
    client_page = context.new_page()
    client_page.goto(f"{url}?lang=ar", wait_until="networkidle")
    button = client_page.locator("button[data-speak]")
    assert button.is_hidden()  # an English voice cannot read Arabic
    # The phone's voices arrive late, with an Arabic one: the button appears.
    client_page.evaluate(
        """() => { window.__voices.push({lang: "ar-SA", name: "Arabic"});
                   speechSynthesis.dispatchEvent(new Event("voiceschanged")); }"""
    )
    assert button.is_visible()
    assert "اقرأ بصوت عالٍ" in button.text_content()
    button.click()
    spoken = client_page.evaluate("window.__spoken")
    assert len(spoken) == 1 and spoken[0]["lang"] == "ar"
    assert spoken[0]["text"].startswith("Zwemles voor kinderen")
    assert "عند المدخل." in spoken[0]["text"] and "منشفة" in spoken[0]["text"]
    assert "kastje" not in spoken[0]["text"]  # Dutch free text is not read by an Arabic voice
    assert client_page.evaluate("performance.getEntriesByType('resource')").__len__() >= 1
    hosts = client_page.evaluate(
        "performance.getEntriesByType('resource').map(e => new URL(e.name).host)"
    )
    assert set(hosts) == {live_server.split("//")[1]}  # nothing leaves for another host
    context.close()


def swimming_week_link(page, live_server, mediator, cases) -> str:
    """The cases enrolled in one swimming lesson that began 20 minutes ago, and the week link
    for all our participants there, made by the mediator on the first case's page."""
    from tests.test_activities import enrol, make_provider
    from webapp.timeutil import utcnow

    swimming = make_activity(provider=make_provider(name="Zwembad Wezenberg"), title="Zwemles")
    started = utcnow() - dt.timedelta(minutes=20)
    for case in cases:
        steps_done_before(case, 6)
        enrol(case, swimming, case.mediator, starts=[started])
    log_in(page, live_server, mediator)
    page.goto(f"{live_server}/cases/{cases[0].id}")
    page.get_by_role(
        "button", name="Eén link voor al onze deelnemers bij Zwembad Wezenberg"
    ).click()
    page.locator(".enrolment .share-box").wait_for()
    return page.locator(".enrolment .share-box .share-url").input_value()


def test_a_provider_confirms_several_participants_on_one_link_at_320_px(
    page, browser, live_server, mediator, other_mediator
) -> None:
    from tests.conftest import in_db, make_client
    from webapp import models

    cases = [
        make_case(mediator),
        make_case(mediator, make_client(first_name="Youssef", last_name="Haddou")),
        make_case(other_mediator, make_client(first_name="Oksana", last_name="Koval")),
    ]
    url = swimming_week_link(page, live_server, mediator, cases)

    context = browser.new_context(**{**PHONE, "viewport": {"width": 320, "height": 740}})
    provider = context.new_page()
    provider.goto(url, wait_until="networkidle")
    assert provider.evaluate(SIDEWAYS, 320) == []
    for who in ("Amina B.", "Youssef H.", "Oksana K."):
        assert provider.get_by_role("heading", name=who).is_visible()
    assert provider.get_by_role("link", name="Bel Sara").is_visible()
    # The two buttons: each label on one line, never cut off.
    for button in provider.locator(".presence-buttons .button").all():
        box = button.evaluate(
            "e => ({lines: Math.round(e.getBoundingClientRect().height / 64),"
            " fits: e.scrollWidth <= e.clientWidth})"
        )
        assert box == {"lines": 1, "fits": True}
    screenshot(provider, "portal-provider-week-320")
    assert axe_violations(provider) == []
    provider.get_by_role("button", name=re.compile(r"^Aanwezig\W+Oksana K")).click()
    expect(provider.get_by_text("Bewaard: Oksana was er.")).to_be_visible()
    provider.get_by_role("button", name=re.compile(r"^Niet aanwezig\W+Youssef H")).click()
    expect(provider.get_by_text("Bewaard: Youssef was er niet.")).to_be_visible()
    sessions = in_db(
        lambda: {
            s.enrolment.case_id: s.attendance
            for s in models.Session.select().join(models.Enrolment)
        }
    )
    assert sessions == {cases[0].id: "", cases[1].id: "absent", cases[2].id: "present"}
    context.close()


def test_a_busy_week_shows_twenty_and_comes_back_where_the_provider_was_at_360_px(
    page, browser, live_server, mediator
) -> None:
    """23 participants in the week: 20 cards, "Meer tonen" for the rest; confirming the last
    one brings the provider back to all 23, scrolled to that participant."""
    from tests.conftest import make_client
    from webapp.attendance import SESSIONS_ON_PAGE

    cases = [
        make_case(mediator, make_client(first_name=f"Kind{i:02d}", last_name="Peeters"))
        for i in range(SESSIONS_ON_PAGE + 3)
    ]
    url = swimming_week_link(page, live_server, mediator, cases)

    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 740}})
    provider = context.new_page()
    provider.goto(url, wait_until="networkidle")
    cards = provider.locator("section.session")
    expect(cards).to_have_count(SESSIONS_ON_PAGE)
    provider.get_by_role("link", name="Meer tonen").click()
    expect(cards).to_have_count(SESSIONS_ON_PAGE + 3)
    assert provider.evaluate(SIDEWAYS, 360) == []
    last = f"Kind{SESSIONS_ON_PAGE + 2:02d} P."
    provider.get_by_role("button", name=re.compile(rf"^Aanwezig\W+{last}")).click()
    expect(provider.get_by_text(f"Bewaard: Kind{SESSIONS_ON_PAGE + 2:02d} was er.")).to_be_visible()
    expect(cards).to_have_count(SESSIONS_ON_PAGE + 3)
    expect(provider.get_by_role("heading", name=last)).to_be_in_viewport()
    # Each button's label whole, inside the card, at this width too.
    for button in provider.locator(f"section.session:has-text('{last}') .button").all():
        assert button.evaluate(
            "e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().right <="
            " e.closest('section').getBoundingClientRect().right"
        )
    screenshot(provider, "portal-provider-week-360-back")
    provider.screenshot(path=str(ARTIFACTS / "portal-provider-week-360-thumb.png"))  # in view
    context.close()
