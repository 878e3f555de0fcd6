"""Benchmark: what a mediator's phone downloads on the first visit, gzipped (budget: DESIGN.md §6).

    python tests/bench/first_visit.py

The first visit is the login page, the first page after logging in (Vandaag), the stylesheets and
scripts those pages load, and every file the service worker fetches when it installs. Each file
counts once: the worker checks what the page already loaded with the server (a 304, no body).
tests/browser/test_pwa.py holds the budget in a real browser; this prints where the bytes go.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from werkzeug.security import generate_password_hash

from tests.conftest import PASSWORD, BrowserLikeClient
from webapp import create_app, models
from webapp.db import database
from webapp.migrations import create_tables

ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


def gz(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6))


def main() -> None:
    folder = tempfile.mkdtemp()
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
            "SESSION_COOKIE_SECURE": False,
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )
    create_tables()
    with database.connection_context():
        mediator = models.User.create(
            email="m@bench.test",
            name="Bemiddelaar",
            role="mediator",
            password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        )
    app.test_client_class = BrowserLikeClient
    client: Any = app.test_client()
    sizes: dict[str, tuple[str, int]] = {}

    def fetch(url: str, part: str) -> bytes:
        body = client.get(url).get_data()
        sizes.setdefault(url, (part, gz(body)))
        return body

    login_page = fetch("/login", "page").decode()
    for url in ASSET.findall(login_page):
        fetch(url, "page")
    client.login(mediator)
    first_page = client.get("/").get_data()
    sizes["/ (Vandaag)"] = ("page", gz(first_page))
    for url in ASSET.findall(first_page.decode()):
        fetch(url, "page")
    worker = fetch("/sw.js", "install").decode()
    release = json.loads(re.search(r"^const RELEASE = (.*);$", worker, re.MULTILINE).group(1))
    for url in release["precache"]:
        fetch(url, "install")

    print(f"{'file':<40} {'part':<8} {'gzip KB':>8}")
    for url, (part, size) in sizes.items():
        print(f"{url:<40} {part:<8} {size / 1024:>8.1f}")
    page = sum(size for part, size in sizes.values() if part == "page")
    install = sum(size for part, size in sizes.values() if part == "install")
    print(f"{'pages, CSS and JS':<49} {page / 1024:>8.1f}")
    print(f"{'more at install':<49} {install / 1024:>8.1f}")
    print(f"{'first visit':<49} {(page + install) / 1024:>8.1f}   (budget 60)")


if __name__ == "__main__":
    main()
