"""The installable app on the server side: manifest, icons, service worker, offline pages."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import struct
from pathlib import Path
from typing import Any

from flask import Flask

from tests.conftest import make_case, make_client
from webapp import models
from webapp.db import database

STATIC = Path(__file__).resolve().parents[1] / "static"


def release_of(body: str) -> dict[str, Any]:
    match = re.search(r"^const RELEASE = (.*);$", body, re.MULTILINE)
    assert match, "no RELEASE line in the service worker"
    return json.loads(match.group(1))


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_manifest_describes_an_installable_app(client: Any) -> None:
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == "Vrijbaan"
    assert manifest["short_name"]
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["id"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] and manifest["background_color"] == "#ffffff"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
        if icon["type"] == "image/png":
            width, height = png_size(STATIC / icon["src"].removeprefix("/static/"))
            assert f"{width}x{height}" == icon["sizes"]


def test_every_page_links_the_manifest_and_the_offline_script(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="manifest" href="/static/manifest.webmanifest"' in page
    assert 'href="/static/icons/icon-192.png"' in page
    assert re.search(r'<script src="/static/offline-queue.js" data-sw="/sw.js"[^>]* defer>', page)


def test_service_worker_is_served_for_the_whole_site_and_never_stale(client: Any) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    release = release_of(response.get_data(as_text=True))
    assert re.fullmatch(r"[0-9a-f]{16}", release["version"])
    assert {
        "/static/app.css",
        "/static/app.js",
        "/static/offline-queue.js",
        "/static/manifest.webmanifest",
        "/static/icons/icon-192.png",
        "/offline",
        "/offline/visit",
    } <= set(release["precache"])
    assert not any(url.startswith(("/cases", "/p/", "/a/", "/r/")) for url in release["precache"])
    assert "/static/sw.js" not in release["precache"]


def test_installing_fetches_the_512_px_icons_not_every_first_visit(client: Any) -> None:
    manifest = json.loads(client.get("/static/manifest.webmanifest").get_data(as_text=True))
    big = {icon["src"] for icon in manifest["icons"] if icon["sizes"] == "512x512"}
    assert big == {"/static/icons/icon-512.png", "/static/icons/icon-maskable-512.png"}
    precache = set(release_of(client.get("/sw.js").get_data(as_text=True))["precache"])
    assert big & precache == set()
    assert "/static/icons/icon-192.png" in precache


def page_texts(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="script-texts">(.*?)</script>', page)
    assert match, "no #script-texts in the page"
    return json.loads(match.group(1))


def test_scripts_take_their_addresses_from_the_page(client: Any, mediator: Any) -> None:
    client.login(mediator)
    page = client.get("/").get_data(as_text=True)
    tag = re.search(r'<script src="/static/offline-queue.js"[^>]*>', page)
    assert tag
    assert 'data-case="/cases/{case}"' in tag.group(0)
    assert 'data-visit-form="/cases/{case}/visits/new"' in tag.group(0)
    assert 'data-visit-post="/cases/{case}/visits"' in tag.group(0)
    release = release_of(client.get("/sw.js").get_data(as_text=True))
    assert release["visitForm"] == "/cases/{case}/visits/new"
    for script in ("offline-queue.js", "sw.js", "app.js", "visit-form.js", "read-aloud.js"):
        assert "/cases" not in (STATIC / script).read_text(), script


DUTCH_IN_SCRIPTS = [
    "Nog te versturen",
    "verstuurd",
    "verbinding",
    "Niet gevonden",
    "Geen toegang",
    "opnieuw",
    "Concept",
    "Verwerpen",
    "gepland",
    "Soort contact",
    "Notities",
    "dossier",
]


def test_scripts_carry_no_words_the_page_gives_them_in_its_language(
    client: Any, mediator: Any
) -> None:
    for script in ("offline-queue.js", "sw.js", "app.js", "visit-form.js", "read-aloud.js"):
        source = (STATIC / script).read_text()
        code = "\n".join(line.split("//")[0] for line in source.splitlines())  # not comments
        found = [word for word in DUTCH_IN_SCRIPTS if word.lower() in code.lower()]
        assert found == [], script
    client.login(mediator)
    dutch = page_texts(client.get("/", headers={"Accept-Language": "nl-BE"}).get_data(as_text=True))
    assert dutch["notFound"] == "Niet gevonden."
    assert dutch["queue"]["title"] == "Nog te versturen"
    assert dutch["queue"]["sentMany"] == "{n} contacten verstuurd."
    assert dutch["queue"]["labels"]["contact_type"] == "Soort contact"
    with database.connection_context():
        models.User.update(ui_language="en").where(models.User.id == mediator.id).execute()
    english = page_texts(client.get("/").get_data(as_text=True))
    assert english["queue"]["labels"]["contact_type"] == "Type of contact"
    assert english["queue"]["caseLabel"] == "Case"
    # The offline pages (for nobody in particular) carry the queue's words as well.
    assert page_texts(client.get("/offline/visit").get_data(as_text=True))["queue"]["title"]


def test_a_link_page_carries_only_words_its_languages_have(client: Any, mediator: Any) -> None:
    page = client.get("/notice").get_data(as_text=True)
    assert "queue" in page_texts(page)  # a page of the app, for anyone
    case = make_case(mediator)
    with database.connection_context():
        _, token = models.AccessLink.issue(
            "client", dt.timedelta(days=30), mediator, client=case.client_id
        )
    response = client.get(f"/p/{token}?lang=en")
    assert response.status_code == 200
    assert page_texts(response.get_data(as_text=True)) == {"error": "That did not work"}


def test_a_changed_static_file_is_a_new_release(app: Flask, client: Any, tmp_path: Path) -> None:
    static = tmp_path / "static"
    shutil.copytree(STATIC, static)
    app.static_folder = str(static)
    first = release_of(client.get("/sw.js").get_data(as_text=True))["version"]
    assert release_of(client.get("/sw.js").get_data(as_text=True))["version"] == first
    with (static / "app.css").open("a") as css:
        css.write("\n.new-release { color: #111; }\n")
    second = release_of(client.get("/sw.js").get_data(as_text=True))["version"]
    assert second != first


def test_offline_page_needs_no_login_and_says_so_plainly(client: Any) -> None:
    response = client.get("/offline")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Geen verbinding</h1>" in page
    assert "Opnieuw proberen" in page
    assert 'name="vrijbaan-offline-page"' in page


def test_offline_pages_carry_nothing_personal(client: Any, mediator: Any) -> None:
    case = make_case(mediator, make_client(first_name="Yasmina", last_name="Haddou"))
    client.login(mediator)
    for url in ("/offline", "/offline/visit"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert "Geen verbinding" in page or 'id="visit-form"' in page, url
        for personal in (mediator.name, mediator.email, "Haddou", "Yasmina"):
            assert personal not in page, f"{personal} on {url}"
        assert "Afmelden" not in page
        assert f"/cases/{case.id}" not in page


def test_offline_visit_form_has_the_fields_of_the_real_one(client: Any) -> None:
    page = client.get("/offline/visit").get_data(as_text=True)
    assert 'id="visit-form"' in page and "data-offline-queue" in page
    for name in (
        "contact_type",
        "occurred_at",
        "duration_minutes",
        "place",
        "contact_made",
        "planned",
        "notes",
        "next_action",
        "next_action_due",
        "idempotency_key",
    ):
        assert f'name="{name}"' in page, name
    for label in ("Soort contact", "Wanneer", "Duur (minuten)", "Notities", "Contact bewaren"):
        assert label in page
    assert 'value="huisbezoek"' in page and 'type="datetime-local"' in page


def test_fresh_token_lets_an_offline_page_send(client: Any, mediator: Any) -> None:
    client.login(mediator)
    response = client.get("/offline/token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_json()["csrf_token"]
    refused = client.post("/logout", headers={"X-CSRFToken": "wrong"}, csrf=False)
    assert refused.status_code == 400
    logout = client.post("/logout", headers={"X-CSRFToken": token}, csrf=False)
    assert logout.status_code == 303


def test_logout_clears_what_the_browser_holds(client: Any, mediator: Any) -> None:
    client.login(mediator)
    response = client.post("/logout")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_pages_are_never_stored_but_static_files_may_be(client: Any, mediator: Any) -> None:
    client.login(mediator)
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/offline").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")
