"""The team's pages follow the browser: English when it prefers English, else Dutch."""

from __future__ import annotations

from tests.conftest import HTMX

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"}
DUTCH = {"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"}


def test_a_mediator_whose_browser_prefers_english_gets_the_team_pages_in_english(
    client, mediator, case
) -> None:
    client.login(mediator)

    today = client.get("/", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en"' in today
    assert "Hi Sara" in today
    assert "Appointments today and tomorrow" in today
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
    assert "Dag Sara" in today and "Afspraken vandaag en morgen" in today

    page = client.get(f"/cases/{case.id}", headers=DUTCH).get_data(as_text=True)
    assert '<html lang="nl"' in page
    assert "Contact registreren" in page and "Tijdlijn" in page
    assert "Log a contact" not in page

    # No preference at all: Dutch, the team's language.
    assert '<html lang="nl"' in client.get("/cases/").get_data(as_text=True)
