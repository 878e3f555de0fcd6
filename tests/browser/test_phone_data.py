"""What a mediator's phone keeps — the offline queue (IndexedDB "vrijbaan-offline"), visit
drafts (localStorage "vrijbaan-draft:…", static/visit-form.js) and the service worker's caches
— is gone at the phone's next contact after a coordinator reset the password (README, "Data on
the phone"); in real Chromium, which carries out Clear-Site-Data."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import log_in
from tests.browser.test_pwa import PUT_IN_QUEUE, QUEUE, service_worker_ready
from tests.conftest import make_case
from webapp import models
from webapp.db import database

DRAFTS = "() => Object.keys(localStorage).filter((k) => k.startsWith('vrijbaan-draft:'))"


def test_a_password_reset_wipes_queue_drafts_and_caches(
    page: Any, live_server: str, app: Any, mediator: Any, coordinator: Any
) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    page.evaluate(
        PUT_IN_QUEUE,
        {
            "key": "b6b1c1b2-0000-4000-8000-000000000002",
            "action": f"/cases/{case.id}/visits",
            "caseId": str(case.id),
            "fields": [["notes", "Sprak over de huur"]],
            "contactLabel": "huisbezoek",
            "queuedAt": "2026-01-01T10:00:00Z",
            "state": "problem",
            "problem": {"status": 409, "message": "Afgesloten.", "errors": {}},
        },
    )
    page.evaluate(f"() => localStorage.setItem('vrijbaan-draft:{mediator.id}:x', 'notities')")
    page.evaluate(
        """async () => {
          const name = (await caches.keys()).find((n) => n.startsWith("vrijbaan-static-"));
          await (await caches.open(name)).put("/marker", new Response("left behind"));
        }"""
    )
    assert len(page.evaluate(QUEUE)) == 1 and page.evaluate(DRAFTS) != []
    # A coordinator resets the password (the phone was lost): every session ends.
    with app.test_request_context(), database.connection_context():
        user = models.User.get_by_id(mediator.id)
        user.end_sessions()
        models.AuditEvent.record("password-reset", user, user=coordinator)
    page.goto(f"{live_server}/")
    page.wait_for_url(lambda url: "/login" in url)
    assert page.evaluate(QUEUE) == []
    assert page.evaluate(DRAFTS) == []
    assert page.evaluate("async () => (await caches.match('/marker')) === undefined")
