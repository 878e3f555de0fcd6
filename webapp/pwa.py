"""The installable app: the service worker at /sw.js, the offline page and the offline visit form.

The service worker keeps only the static files (under a cache name that carries a hash of their
contents, so a release replaces them cleanly) and two pages without personal data: the offline
page and a generic visit form that records a visit on the phone until the connection returns.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for
from flask_wtf.csrf import generate_csrf

from webapp.models import CONTACT_TYPES

bp = Blueprint("pwa", __name__)

SERVICE_WORKER = "sw.js"
# The line of static/sw.js that the server fills in with this release's version and files.
RELEASE_LINE = re.compile(r"^const RELEASE = .*;$", re.MULTILINE)
_release_cache: dict[tuple[tuple[str, int, int], ...], str] = {}


def _static_files() -> list[Path]:
    """Every file the service worker precaches: all of static/ but the worker itself."""
    root = Path(current_app.static_folder or "")
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.name != SERVICE_WORKER
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def release_version() -> str:
    """A short hash of the static files and the offline pages: it changes with every release."""
    root = Path(current_app.static_folder or "")
    templates = Path(current_app.root_path).parent / "templates" / "pwa"
    files = [
        *((f"static/{path.relative_to(root).as_posix()}", path) for path in _static_files()),
        (f"static/{SERVICE_WORKER}", root / SERVICE_WORKER),
        *((f"templates/pwa/{path.name}", path) for path in sorted(templates.glob("*.html"))),
    ]
    stamp = tuple((name, path.stat().st_mtime_ns, path.stat().st_size) for name, path in files)
    if stamp not in _release_cache:
        digest = hashlib.sha256()
        for name, path in files:
            digest.update(name.encode() + b"\0")
            digest.update(path.read_bytes())
        _release_cache.clear()
        _release_cache[stamp] = digest.hexdigest()[:16]
    return _release_cache[stamp]


def precache_urls() -> list[str]:
    """The static files and the two pages without personal data that work offline."""
    root = Path(current_app.static_folder or "")
    files = [
        url_for("static", filename=path.relative_to(root).as_posix()) for path in _static_files()
    ]
    return [*files, url_for("pwa.offline"), url_for("pwa.offline_visit")]


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, with this release's version and file list filled in."""
    release = {
        "version": release_version(),
        "precache": precache_urls(),
        "offline": url_for("pwa.offline"),
        "offlineVisit": url_for("pwa.offline_visit"),
    }
    source = (Path(current_app.static_folder or "") / SERVICE_WORKER).read_text()
    body = RELEASE_LINE.sub(lambda _: f"const RELEASE = {json.dumps(release)};", source, count=1)
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # The browser must ask for a new worker on every check, so a release is picked up at once.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline() -> str:
    """The page the service worker shows when there is no connection; it holds no personal data."""
    return render_template("pwa/offline.html")


@bp.get("/offline/visit")
def offline_visit() -> str:
    """A visit form without any personal data; offline it stands in for /cases/<id>/visits/new."""
    return render_template("pwa/visit.html", contact_types=CONTACT_TYPES)


@bp.get("/offline/token")
def token() -> Response:
    """A fresh CSRF token for sending queued visits from an offline page (which carries none)."""
    return jsonify(csrf_token=generate_csrf())
