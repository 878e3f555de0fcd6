"""The privacy notice for clients (plain language, their languages, the city's parts from
configuration, linked from their page) and the record of processing for the DPO."""

from __future__ import annotations

import pytest

from tests.test_portal import portal

__all__ = ["portal"]


def test_the_notice_is_public_and_says_what_how_long_and_whom_to_ask(app, monkeypatch) -> None:
    app.config.update(PRIVACY_CONTROLLER="Stad Antwerpen", PRIVACY_DPO="privacy@antwerpen.be")
    page = app.test_client().get("/privacyverklaring").get_data(as_text=True)
    assert "Wat we over je bewaren" in page
    assert "Tot 24 maanden nadat je traject afgelopen is" in page
    assert "6 maanden na je aanmelding" in page
    assert "privacy@antwerpen.be" in page and "Stad Antwerpen" in page
    assert "Alles laten wissen" in page and "Gegevensbeschermingsautoriteit" in page
    monkeypatch.setenv("VRIJBAAN_KEEP_CLOSED_CASE_MONTHS", "36")
    longer = app.test_client().get("/privacyverklaring").get_data(as_text=True)
    assert "Tot 36 maanden" in longer


def test_without_configuration_it_still_reads_well(app) -> None:
    page = app.test_client().get("/privacyverklaring").get_data(as_text=True)
    assert "vraag het adres aan je bemiddelaar" in page
    assert "de stad die Vrijbaan gebruikt" in page


@pytest.mark.parametrize("language", ["nl", "en", "fr", "ar"])
def test_in_the_client_pages_languages(app, language) -> None:
    page = app.test_client().get(f"/privacyverklaring?lang={language}").get_data(as_text=True)
    assert f'<html lang="{language}"' in page
    assert 'href="?lang=nl"' in page and 'href="?lang=ar"' in page


def test_the_client_page_links_to_it_in_its_language(app, portal) -> None:
    page = app.test_client().get(portal["url"] + "?lang=fr").get_data(as_text=True)
    assert 'href="/privacyverklaring?lang=fr"' in page


def test_the_record_of_processing(client, mediator, coordinator) -> None:
    client.login(mediator)
    assert client.get("/privacy/register").status_code == 403
    client.login(coordinator)
    page = client.get("/privacy/register").get_data(as_text=True)
    assert "Register van verwerkingen" in page
    assert "Afgerond dossier: 24 maanden" in page and "Beveiligingslogboek: 12 maanden" in page
    assert "zet VRIJBAAN_CONTROLLER" in page
