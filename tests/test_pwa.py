"""The installable app on the server side: manifest, icons, service worker, offline pages."""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path
from typing import Any

from flask import Flask

from tests.conftest import make_case, make_client

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
