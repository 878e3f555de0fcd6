"""The front door at phone size: a referrer sends the form, a coordinator takes it in, the
network's report is read and exported."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from tests.browser.conftest import axe_violations, log_in, screenshot
from tests.conftest import in_db
from webapp import models
from webapp.models import database
from webapp.timeutil import local_today


def test_referral_from_form_to_case_and_reports(page, live_server, coordinator, mediator) -> None:
    with database.connection_context():
        org = models.ReferringOrganisation.create(name="CAW Antwerpen", kind="caw")
        _link, token = models.AccessLink.issue(
            "referral", valid_for=dt.timedelta(days=365), created_by=coordinator, organisation=org
        )

    # A social worker opens the link on a phone, without an account.
    page.goto(f"{live_server}/r/{token}")
    assert page.title() == "Doorverwijzen · Vrijbaan"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Doorverwijzing versturen").click()
    assert page.get_by_role("alert").first.inner_text() == "Controleer de velden met een fout."
    assert page.get_by_text("Vul de voornaam in.").is_visible()
    assert page.get_by_text("Zonder akkoord van de persoon kunnen we niet verder.").is_visible()
    screenshot(page, "referral-form-errors")
    assert axe_violations(page) == []

    page.get_by_label("Jouw naam").fill("Lies Verbruggen")
    page.get_by_label("Jouw e-mailadres").fill("lies@caw.test")
    page.get_by_label("Voornaam").fill("Rahel")
    page.get_by_label("Familienaam").fill("Tesfay")
    page.get_by_label("Geboortedatum").fill("2011-09-14")
    page.get_by_label("District").select_option("Borgerhout")
    page.get_by_label("sport").check()
    page.get_by_label("De vraag").fill("Rahel wil na school voetballen met andere meisjes.")
    page.get_by_label("taal", exact=True).check()
    page.get_by_label("op de permanentie").check()
    page.get_by_label(re.compile("gaat ermee akkoord")).check()
    page.get_by_role("button", name="Doorverwijzing versturen").click()
    page.wait_for_url(re.compile(r"/ontvangen/VB-"))
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"VB-\d{4}-\d{4}", reference)
    assert "Rahel" not in page.content()
    screenshot(page, "referral-received")
    stored = in_db(models.Referral.get)
    assert (stored.domains, stored.known_thresholds, stored.first_contact) == (
        "sport",
        "taal",
        "permanentie",
    )

    # The coordinator finds it on Vandaag and accepts it for a mediator.
    log_in(page, live_server, coordinator)
    page.get_by_role("link", name=re.compile("Rahel Tesfay")).first.click()
    page.get_by_label("Bemiddelaar").select_option(
        label=re.compile(mediator.name).pattern + " (OCMW)"
    )
    screenshot(page, "referral-intake")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Aanvaarden en dossier openen").click()
    # Accepting opens the new case.
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_id = in_db(lambda: models.Referral.get().case_id)
    assert page.url.endswith(f"/cases/{case_id}")
    assert in_db(lambda: models.Case.get_by_id(case_id).mediator_id) == mediator.id
    page.goto(f"{live_server}/referrals/{in_db(lambda: models.Referral.get().id)}")
    mail = page.get_by_role("link", name=re.compile("Laat de doorverwijzer het weten"))
    assert mail.get_attribute("href").startswith("mailto:lies%40caw.test")

    page.goto(f"{live_server}/referrals/")
    assert axe_violations(page) == []

    # The reports: change the period, download a CSV.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Team").click()
    page.wait_for_url(re.compile(r"/reports/"))
    year = local_today().year
    page.get_by_label("Van").fill(f"{year}-01-01")
    page.get_by_label("Tot en met").fill(f"{year}-12-31")
    page.get_by_role("button", name="Toon").click()
    page.wait_for_url(re.compile(rf"end={year}-12-31"))
    new_cases = (
        page.locator("#fig-maanden")
        .locator("xpath=..")
        .locator("tbody tr")
        .nth(local_today().month - 1)
    )
    assert new_cases.locator("td.num").first.inner_text() == "1"
    screenshot(page, "reports")
    assert axe_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("CSV Dossiers per dienst")).click()
    download = download_info.value
    assert download.suggested_filename.startswith("vrijbaan-diensten-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "Dienst;Dossiers" and "OCMW;<5" in text


def test_referrer_follows_their_referrals_at_phone_size(page, live_server, coordinator, mediator):
    with database.connection_context():
        org = models.ReferringOrganisation.create(name="OCMW Antwerpen Noord", kind="ocmw")
        _link, token = models.AccessLink.issue(
            "referral", valid_for=dt.timedelta(days=365), created_by=coordinator, organisation=org
        )
        references = []
        for first, last in (("Rahel", "Tesfay"), ("Olena", "Kovalenko")):
            referral = models.Referral.submit(
                org,
                idempotency_key=f"key-{first}",
                referrer_name="Sarah Peeters",
                first_name=first,
                last_name=last,
                question="Zoekt een sportclub",
            )
            references.append(referral.reference)
        referral.accept(coordinator, mediator, None)

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server}/r/{token}")
    page.get_by_role("link", name="Hoe ver staan je doorverwijzingen?").click()
    page.wait_for_url(re.compile(r"/opvolging$"))
    rows = page.locator("#referrer-status li")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\n")[0] == f"{references[1]} aanvaard"
    assert rows.nth(1).inner_text().split("\n")[0] == f"{references[0]} ontvangen"
    assert "door Sarah" in rows.nth(0).inner_text()
    assert "Rahel" not in page.content() and "Olena" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "referrer-status-360")
    assert axe_violations(page) == []
