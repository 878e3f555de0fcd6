"""The team's pages follow the browser: English when it prefers English, else Dutch."""

from __future__ import annotations

from tests.conftest import HTMX, in_db

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"}
DUTCH = {"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"}


def test_a_mediator_whose_browser_prefers_english_gets_the_team_pages_in_english(
    client, mediator, case
) -> None:
    client.login(mediator)

    today = client.get("/", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en"' in today
    assert "Hi Sara" in today
    assert '<h2 id="today-actions-title">To do</h2>' in today  # (empty sections fold away)
    assert "Log out" in today and "Afmelden" not in today

    caseload = client.get("/cases/", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en"' in caseload
    assert "Amina Bouzid" in caseload
    assert "Search by name, phone or district" in caseload
    assert "Last contact" in caseload and "Laatste contact" not in caseload

    page = client.get(f"/cases/{case.id}", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Log a contact" in page and "Contact registreren" not in page
    assert "Timeline" in page and "Case opened" in page
    assert "Add threshold" in page

    search = client.get("/cases/?q=nobody", headers={**ENGLISH, **HTMX}).get_data(as_text=True)
    assert "No cases found for ‘nobody’." in search


def test_with_a_dutch_browser_the_same_pages_stay_dutch(client, mediator, case) -> None:
    client.login(mediator)

    today = client.get("/", headers=DUTCH).get_data(as_text=True)
    assert '<html lang="nl"' in today
    assert "Dag Sara" in today and "Te doen</h2>" in today

    page = client.get(f"/cases/{case.id}", headers=DUTCH).get_data(as_text=True)
    assert '<html lang="nl"' in page
    assert "Contact registreren" in page and "Tijdlijn" in page
    assert "Log a contact" not in page

    # No preference at all: Dutch, the team's language.
    assert '<html lang="nl"' in client.get("/cases/").get_data(as_text=True)


def _add_threshold(client, case, key: str, headers: dict[str, str]) -> None:
    from webapp import models

    category = in_db(lambda: models.ThresholdCategory.get(models.ThresholdCategory.key == key))
    response = client.post(
        f"/cases/{case.id}/thresholds/",
        data={"category": category.id, "status": "open", "note": "", "signal": "y"},
        headers={**headers, **HTMX},
    )
    assert response.status_code == 200


def test_default_step_and_threshold_labels_follow_the_browser_language(
    client, mediator, case
) -> None:
    client.login(mediator)
    _add_threshold(client, case, "administratief", ENGLISH)

    caseload = client.get("/cases/", headers=ENGLISH).get_data(as_text=True)
    assert "Step 2/9 · Getting acquainted" in caseload and "Kennismaking" not in caseload
    assert "3. Clarifying the question" in caseload  # the filter on steps

    today = client.get("/", headers=ENGLISH).get_data(as_text=True)
    assert "Step 2/9 · Getting acquainted" in today

    page = client.get(f"/cases/{case.id}", headers=ENGLISH).get_data(as_text=True)
    assert "Step 2/9 · Getting acquainted" in page
    assert "Rights &amp; budget" in page and "Rechten" not in page
    assert "administrative / digital" in page

    form = client.get(f"/cases/{case.id}/thresholds/new", headers=ENGLISH).get_data(as_text=True)
    assert "time / childcare" in form and "tijd / kinderopvang" not in form

    reports = client.get("/reports/", headers=ENGLISH).get_data(as_text=True)
    assert "2. Getting acquainted" in reports and "health / disability" in reports
    signals = client.get("/reports/signals.csv", headers=ENGLISH).get_data(as_text=True)
    assert "administrative / digital" in signals

    # The Dutch stay as they were.
    dutch = client.get(f"/cases/{case.id}", headers=DUTCH).get_data(as_text=True)
    assert "Stap 2/9 · Kennismaking" in dutch and "administratief / digitaal" in dutch
    assert "Getting acquainted" not in dutch


def test_a_renamed_label_is_shown_as_typed_in_every_language(client, mediator, case) -> None:
    from webapp import models

    def rename() -> None:
        models.StepDefinition.update(label="Eerste gesprek").where(
            models.StepDefinition.key == "kennismaking"
        ).execute()
        models.ThresholdCategory.update(label="vervoer").where(
            models.ThresholdCategory.key == "mobiliteit"
        ).execute()

    in_db(rename)
    client.login(mediator)
    _add_threshold(client, case, "mobiliteit", DUTCH)
    for headers in (ENGLISH, DUTCH):
        caseload = client.get("/cases/", headers=headers).get_data(as_text=True)
        assert "2/9 · Eerste gesprek" in caseload and "Getting acquainted" not in caseload
        page = client.get(f"/cases/{case.id}", headers=headers).get_data(as_text=True)
        assert "2/9 · Eerste gesprek" in page and "Kennismaking" not in page
        assert "vervoer" in page and "mobility" not in page
    # The labels not renamed are still translated.
    page = client.get(f"/cases/{case.id}", headers=ENGLISH).get_data(as_text=True)
    assert "Clarifying the question" in page


def test_what_an_english_screen_stores_for_colleagues_is_dutch(client, mediator, case) -> None:
    """Timeline details are read by the whole team: written in Dutch whatever the screen."""
    from webapp import models

    client.login(mediator)
    _add_threshold(client, case, "financieel", ENGLISH)
    version = in_db(lambda: models.Case.get_by_id(case.id).version)
    response = client.post(
        f"/cases/{case.id}/close",
        data={"version": version, "outcome": "stopped", "reason": "schedule", "note": ""},
        headers=ENGLISH,
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    details = in_db(
        lambda: {
            e.kind: e.detail
            for e in models.CaseEvent.select().where(models.CaseEvent.case == case.id)
        }
    )
    assert details["threshold_added"] == "financieel · open"
    assert details["closed"].startswith("gestopt") and "uurrooster" in details["closed"]


def test_a_language_changed_during_a_request_is_spoken_at_once(app) -> None:
    """The request's catalogue is kept once found: it must follow force_locale and refresh(),
    in Python and in the templates."""
    from flask import g, render_template_string
    from flask_babel import force_locale, refresh
    from flask_babel import gettext as _

    with app.test_request_context(headers=DUTCH):
        assert _("vandaag") == "vandaag"
        assert render_template_string("{{ _('vandaag') }}") == "vandaag"
        with force_locale("en"):
            assert _("vandaag") == "today"
            assert render_template_string("{{ _('vandaag') }}") == "today"
        assert _("vandaag") == "vandaag"
        assert render_template_string("{{ _('vandaag') }}") == "vandaag"
        g.page_language = "en"  # as a link page in the client's language sets it
        refresh()
        assert render_template_string("{{ _('vandaag') }}") == "today"
        assert _("vandaag") == "today"


def test_the_confirmation_of_a_new_language_is_in_that_language(client, mediator) -> None:
    client.login(mediator)
    client.get("/account", headers=DUTCH)

    page = client.post(
        "/account/language", data={"ui_language": "en"}, headers=DUTCH, follow_redirects=True
    ).get_data(as_text=True)

    assert "The language has been saved." in page
    assert '<html lang="en"' in page
