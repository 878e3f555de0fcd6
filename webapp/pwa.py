"""The installable app: the service worker at /sw.js, the offline page and the offline visit form.

The service worker keeps only the static files (under a cache name that carries a hash of their
contents, so a release replaces them cleanly) and two pages without personal data: the offline
page and a generic visit form that records a visit on the phone until the connection returns.
The scripts carry no addresses and no words of their own: the service worker gets them filled in
here, the page's scripts read them from the page (url_pattern, script_texts).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from webapp.models import CONTACT_TYPES

bp = Blueprint("pwa", __name__)

SERVICE_WORKER = "sw.js"
# The line of static/sw.js that the server fills in with this release's version and files.
RELEASE_LINE = re.compile(r"^const RELEASE = .*;$", re.MULTILINE)
_release_cache: dict[tuple[tuple[str, int, int], ...], str] = {}
# Files for installing the app, which the browser fetches itself when (and only when) someone
# installs it: precaching them would add to every first visit (DESIGN.md §6).
INSTALL_ONLY = re.compile(r"^icons/.*-512\.png$")
# Stands for the case number while an address is built; the scripts see {case} instead.
_CASE = 987654321


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
    """The static files the pages use and the two pages without personal data that work offline."""
    root = Path(current_app.static_folder or "")
    names = [path.relative_to(root).as_posix() for path in _static_files()]
    files = [url_for("static", filename=name) for name in names if not INSTALL_ONLY.match(name)]
    return [*files, url_for("pwa.offline"), url_for("pwa.offline_visit")]


@bp.app_template_global()
def url_pattern(endpoint: str) -> str:
    """An address of a case's page with {case} where its number goes: '/cases/{case}/visits'."""
    return url_for(endpoint, case_id=_CASE).replace(str(_CASE), "{case}")


@bp.app_template_global()
def script_texts() -> dict[str, Any]:
    """What the scripts say, in the page's language (base.html renders it as JSON)."""
    if getattr(g, "page_language", None):
        # A client's or provider's page, in their language: one message that every language of
        # the link pages has, and no offline queue (that is the team's).
        return {"error": _("Dat lukte niet")}
    return {
        "notFound": _("Niet gevonden."),
        "forbidden": _("Geen toegang."),
        "badRequest": _("Dat lukte niet. Laad de pagina opnieuw."),
        "error": _("Er ging iets mis. Probeer opnieuw."),
        "offline": _("Geen verbinding. Probeer opnieuw."),
        "queue": _queue_texts(),
    }


def _queue_texts() -> dict[str, Any]:
    """The offline queue's words; {n} stands for a number."""
    return {
        "title": _("Nog te versturen"),
        "intro": _(
            "Deze contacten staan alleen op je telefoon. Ze worden verstuurd zodra er verbinding "
            "is. Meld je niet af tot ze verstuurd zijn."
        ),
        "pending": _("nog te versturen"),
        "problem": _("niet verstuurd"),
        "queued": _(
            "Geen verbinding. Het contact is bewaard op je telefoon en wordt verstuurd zodra er "
            "weer verbinding is."
        ),
        "sentHere": _("Het contact is verstuurd en staat in het dossier."),
        "sentOne": _("1 contact verstuurd."),
        "sentMany": _("%(n)s contacten verstuurd.", n="{n}"),
        "problems": _(
            "Een contact kon niet bewaard worden. Lees wat er mis is bij 'Nog te versturen'."
        ),
        "sendNow": _("Nu versturen"),
        "another": _("Nog een contact registreren"),
        "backToCase": _("Terug naar het dossier"),
        "caseLabel": _("Dossier"),
        "notFound": _("Dit dossier bestaat niet meer of is niet meer van jou."),
        "invalid": _("Het contact is niet bewaard: controleer wat je invulde."),
        "copyLabel": _("Je tekst (kopieer hem voor je verwijdert)"),
        "copy": _("Kopieer de tekst"),
        "copied": _("De tekst is gekopieerd."),
        "remove": _("Verwijder van mijn telefoon"),
        "removed": _("Verwijderd van je telefoon."),
        "redo": _("Opnieuw invullen"),
        "login": _("Meld je opnieuw aan: daarna worden je contacten verstuurd."),
        "failed": _("Versturen lukte nu niet. Het gebeurt opnieuw zodra er verbinding is."),
        "online": _("De verbinding is terug."),
        "logoutOne": _(
            "Er is nog 1 contact niet verstuurd. Als je nu afmeldt, wordt het van je telefoon "
            "gewist. Toch afmelden?"
        ),
        "logoutMany": _(
            "Er zijn nog %(n)s contacten niet verstuurd. Als je nu afmeldt, worden ze van je "
            "telefoon gewist. Toch afmelden?",
            n="{n}",
        ),
        "yes": _("ja"),
        "labels": {
            "contact_type": _("Soort contact"),
            "occurred_at": _("Wanneer"),
            "duration_minutes": _("Duur (minuten)"),
            "place": _("Plaats"),
            "contact_made": _("Contact gehad"),
            "planned": _("Gepland (nog niet gebeurd)"),
            "notes": _("Notities"),
            "next_action": _("Te doen"),
            "next_action_due": _("Tegen wanneer"),
        },
    }


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, with this release's version and file list filled in."""
    release = {
        "version": release_version(),
        "precache": precache_urls(),
        "offline": url_for("pwa.offline"),
        "offlineVisit": url_for("pwa.offline_visit"),
        "visitForm": url_pattern("visits.new"),
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
