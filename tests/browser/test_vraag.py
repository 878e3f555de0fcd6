"""/vraag on a phone of 360 px, in Dutch and in Arabic: ask, get the confirmation; the
coordinator finds the request in intake and accepts it; the poster prints on one A4 page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations, log_in, screenshot
from tests.conftest import in_db
from webapp import models
from webapp.models import database


@pytest.fixture
def walk_in(app):
    # A person's test run takes less than the seconds a real person needs: the time check is
    # tested in tests/test_vraag.py, not here.
    app.config["VRAAG_MIN_SECONDS"] = 0
    app.config["PUBLIC_BASE_URL"] = "https://vrijbaan.example.be"
    import datetime as dt

    with database.connection_context():
        models.WalkInHours.create(
            place="OCMW sociaal centrum Kiel",
            address="Abdijstraat 154, 2020 Antwerpen",
            weekday=2,
            starts=dt.time(13),
            ends=dt.time(16),
        )


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_mother_asks_in_dutch_and_the_coordinator_accepts(
    page, live_server, walk_in, coordinator, mediator
) -> None:
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{live_server}/vraag")
    assert page.title() == "Ik zoek iets om te doen · Vrijbaan"
    assert axe_violations(page) == [] and fits(page)
    assert page.get_by_role("link", name=re.compile("Abdijstraat 154")).is_visible()
    page.get_by_role("button", name="Versturen").click()
    assert page.get_by_role("alert").first.inner_text() == "Controleer de velden met een fout."
    assert page.get_by_text("Vul je naam in.").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "vraag-errors-360")

    page.get_by_label("Voor mijn kind").check()
    page.get_by_label("Hoe oud?").fill("8")
    page.get_by_label("zwemmen").check()
    page.get_by_label("dansen").check()
    page.get_by_label("Je naam").fill("Sofie Peeters")
    page.get_by_label("Je telefoonnummer").fill("0477 33 44 55")
    page.get_by_label("Voor mijn kind").check()
    page.get_by_label("'s morgens (9–12 uur)").check()
    page.get_by_label(re.compile("Ik ga akkoord")).check()
    page.get_by_role("button", name="Versturen").click()
    page.wait_for_url(re.compile(r"/vraag/ontvangen\?"))
    status = page.get_by_role("status").first.inner_text()
    assert status.startswith("We bellen je uiterlijk op") and "'s morgens" in status
    assert "Sofie" not in page.content()
    assert axe_violations(page) == [] and fits(page)
    screenshot(page, "vraag-received-360")

    log_in(page, live_server, coordinator)
    page.goto(f"{live_server}/referrals/")
    page.get_by_role("link", name=re.compile("Sofie Peeters")).click()
    assert page.get_by_text("zelf gevraagd via /vraag").first.is_visible()
    page.get_by_label("Bemiddelaar").select_option(str(mediator.id))
    page.get_by_role("button", name="Aanvaarden en dossier openen").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert page.get_by_text("Eerste contact: bellen").first.is_visible()
    case = in_db(models.Case.get)
    assert case.source == "zelf" and case.mediator_id == mediator.id


def test_a_father_asks_in_arabic_right_to_left(page, live_server, walk_in) -> None:
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{live_server}/vraag?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", level=1).inner_text() == "أبحث عن نشاط"
    assert axe_violations(page) == [] and fits(page)
    page.get_by_label("لعائلتي").check()
    page.get_by_label("كم العمر؟").fill("6")
    page.get_by_label("الرياضة").check()
    page.get_by_label("اسمك").fill("Youssef Benali")
    page.get_by_label("رقم هاتفك").fill("0488 12 34 56")
    page.get_by_label(re.compile("أوافق")).check()
    screenshot(page, "vraag-ar-360")
    page.get_by_role("button", name="إرسال").click()
    page.wait_for_url(re.compile(r"/vraag/ontvangen\?"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("status").first.inner_text().startswith("سنتصل بك")
    assert axe_violations(page) == [] and fits(page)
    screenshot(page, "vraag-ar-received-360")
    stored = in_db(models.Referral.get)
    # The language to speak is the page's own unless the person chose another.
    assert (stored.source, stored.language, stored.for_whom) == ("zelf", "ar", "gezin")


def test_the_poster_prints_on_one_a4_page_with_the_qr_code(page, live_server, walk_in) -> None:
    page.goto(f"{live_server}/vraag/affiche")
    assert axe_violations(page) == []
    assert page.locator("svg.qr").is_visible()
    assert page.locator(".poster-url").inner_text() == "https://vrijbaan.example.be/vraag"
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert page.locator("svg.qr").is_visible()
    screenshot(page, "vraag-poster-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
