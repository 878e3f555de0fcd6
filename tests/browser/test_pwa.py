"""The installable app in Chromium at phone size: installing, the offline page, offline visits."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, axe_violations, log_in, screenshot
from tests.conftest import in_db, make_case, make_client
from webapp import models

# Polled inside the page (at most 30 s); wait_for_function would need eval, which our CSP forbids.
WORKER_ACTIVE = """async () => {
  for (let tries = 0; tries < 300; tries += 1) {
    const registration = await navigator.serviceWorker.getRegistration();
    if (registration && registration.active && registration.active.state === "activated") {
      return true;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return false;
}"""

QUEUE = """() => new Promise((done, fail) => {
  const open = indexedDB.open("vrijbaan-offline", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("visits", { keyPath: "key" });
  open.onerror = () => fail(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction("visits").objectStore("visits").getAll();
    request.onsuccess = () => { open.result.close(); done(request.result); };
  };
})"""

QUEUE_EMPTIED = (
    """async () => {
  const queue = """
    + QUEUE
    + """;
  for (let tries = 0; tries < 300; tries += 1) {
    if ((await queue()).length === 0) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
  return false;
}"""
)

PUT_IN_QUEUE = """(item) => new Promise((done, fail) => {
  const open = indexedDB.open("vrijbaan-offline", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("visits", { keyPath: "key" });
  open.onsuccess = () => {
    const transaction = open.result.transaction("visits", "readwrite");
    transaction.objectStore("visits").put(item);
    transaction.oncomplete = () => { open.result.close(); done(true); };
    transaction.onerror = () => fail(transaction.error);
  };
})"""


def service_worker_ready(page: Any) -> str:
    """Wait until the worker is active and controls this page."""
    assert page.evaluate(WORKER_ACTIVE), "the service worker did not activate"
    if page.evaluate("navigator.serviceWorker.controller === null"):
        # The page started loading before the worker was active: the next load is controlled.
        page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    return page.evaluate("async () => (await navigator.serviceWorker.ready).scope")


# Asks through the worker's own network: a boosted GET that fails comes back with HX-Redirect.
NETWORK_IS = """async (wanted) => {
  for (let tries = 0; tries < 300; tries += 1) {
    let worker = "offline";
    try {
      const response = await fetch("/offline/token", { headers: { "HX-Boosted": "true" } });
      worker = response.headers.has("HX-Redirect") ? "offline" : "online";
    } catch (error) {
      worker = "offline";
    }
    if (worker === wanted && navigator.onLine === (wanted === "online")) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
  return false;
}"""


def go_offline(page: Any) -> None:
    """Cut the network, and wait until both the page and its service worker notice."""
    page.context.set_offline(True)
    assert page.evaluate(NETWORK_IS, "offline")


def go_online(page: Any) -> None:
    page.context.set_offline(False)
    assert page.evaluate(NETWORK_IS, "online")


def visits_of(case: models.Case) -> list[models.Visit]:
    return in_db(lambda: list(models.Visit.select().where(models.Visit.case == case.id)))


def visit_events_of(case: models.Case) -> list[models.CaseEvent]:
    return in_db(
        lambda: list(
            models.CaseEvent.select().where(
                models.CaseEvent.case == case.id, models.CaseEvent.kind == "visit"
            )
        )
    )


def test_chromium_finds_the_app_installable(
    playwright: Any, browser_type_launch_args: dict[str, Any], live_server: str, tmp_path: Any
) -> None:
    # Chromium says "in-incognito" in an ordinary context: installability needs a real profile.
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), **browser_type_launch_args, **PHONE
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{live_server}/login")
        assert service_worker_ready(page) == f"{live_server}/"
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        installability = cdp.send("Page.getInstallabilityErrors")
        cdp.detach()
    finally:
        context.close()
    assert manifest["errors"] == []
    assert manifest["url"] == f"{live_server}/static/manifest.webmanifest"
    data = json.loads(manifest["data"])
    assert data["name"] == "Vrijbaan"
    assert data["start_url"] == "/"
    assert data["display"] == "standalone"
    assert installability["installabilityErrors"] == []


def test_first_visit_downloads_each_file_once_within_the_budget(
    page: Any, live_server: str, mediator: Any, app: Flask
) -> None:
    """The login page, Vandaag, their styles and scripts and what the service worker keeps when it
    installs: each file travels once, together at most 60 KB gzipped (DESIGN.md §6)."""
    sent: list[tuple[str, int]] = []
    serve = app.wsgi_app

    def weigh(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """Each answer of 200 as it travels, gzipped (the app is shared by the run's tests:
        a wrapper around it for this test, not a hook registered on it)."""
        status: list[str] = []

        def start(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        answer = serve(environ, start)
        try:
            body = b"".join(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        if status and status[0].startswith("200"):
            sent.append((environ["PATH_INFO"], len(gzip.compress(body))))
        return [body]

    app.wsgi_app = weigh  # type: ignore[method-assign]
    try:
        log_in(page, live_server, mediator)
        service_worker_ready(page)
        page.wait_for_load_state("networkidle")
    finally:
        app.wsgi_app = serve  # type: ignore[method-assign]
    downloaded = [path for path, _ in sent]
    assert {"/login", "/", "/static/app.css", "/sw.js", "/offline/visit"} <= set(downloaded)
    assert not any(path.endswith("-512.png") for path in downloaded)
    twice = sorted(
        {path for path in downloaded if path.startswith("/static/")}
        - {path for path in set(downloaded) if downloaded.count(path) == 1}
    )
    assert twice == []
    assert sum(size for _, size in sent) <= 60 * 1024


def test_offline_reload_shows_our_offline_page(page: Any, live_server: str, mediator: Any) -> None:
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    go_offline(page)
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Geen verbinding"
    assert page.url == f"{live_server}/"
    assert page.get_by_text("Offline", exact=True).is_visible()
    screenshot(page, "pwa-offline-page")
    assert axe_violations(page) == []

    # A tap on a link in the tab bar (an htmx-boosted request) lands on the same page.
    page.get_by_role("link", name="Dossiers").click()
    page.wait_for_url(f"{live_server}/cases/")
    assert page.get_by_role("heading", level=1).inner_text() == "Geen verbinding"

    # Back online, "Opnieuw proberen" shows the page that was asked for.
    go_online(page)
    page.get_by_role("link", name="Opnieuw proberen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossiers")
    assert page.url == f"{live_server}/cases/"


def test_only_static_files_and_offline_pages_are_cached(
    page: Any, live_server: str, mediator: Any
) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    page.goto(f"{live_server}/cases/{case.id}")
    page.goto(f"{live_server}/cases/")
    cached = page.evaluate(
        """async () => {
          const names = await caches.keys();
          const urls = [];
          for (const name of names) {
            for (const request of await (await caches.open(name)).keys()) {
              urls.push(new URL(request.url).pathname);
            }
          }
          return { names, urls };
        }"""
    )
    assert len(cached["names"]) == 1
    assert cached["names"][0].startswith("vrijbaan-static-")
    assert "/offline" in cached["urls"]
    assert "/offline/visit" in cached["urls"]
    personal = [
        url
        for url in cached["urls"]
        if not url.startswith("/static/") and url not in ("/offline", "/offline/visit")
    ]
    assert personal == []
    offline_page = page.evaluate(
        "async () => (await (await caches.match('/offline/visit')).text())"
    )
    assert mediator.name not in offline_page
    assert case.client.last_name not in offline_page


def fill_visit_form(page: Any, notes: str) -> None:
    page.get_by_text("huisbezoek", exact=True).click()
    folded = page.locator("details#visit-details:not([open]) > summary")  # not on the offline form
    if folded.count():
        folded.click()
    page.get_by_label("Duur (minuten)").fill("45")
    page.get_by_label("Plaats").fill("Thuis, Turnhoutsebaan")
    page.get_by_label("Notities").fill(notes)


def test_visit_recorded_offline_is_stored_once_when_back_online(
    page: Any, live_server: str, mediator: Any
) -> None:
    case = make_case(mediator, make_client(first_name="Yasmina", last_name="Haddou"))
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    page.goto(f"{live_server}/cases/{case.id}")

    go_offline(page)
    page.get_by_role("link", name="Contact registreren").first.click()
    page.wait_for_url(f"{live_server}/cases/{case.id}/visits/new")
    assert page.get_by_text("Geen verbinding. Wat je hier invult").is_visible()
    assert page.locator("[data-client-name]").inner_text() == "Yasmina ·"
    fill_visit_form(page, "Wil graag zwemmen op woensdag. Zoekt een badpak.")
    screenshot(page, "pwa-offline-visit-form")
    page.get_by_role("button", name="Contact bewaren").click()

    queue = page.get_by_role("region", name="Nog te versturen")
    expect(queue).to_contain_text("nog te versturen")
    # Said once: the queued notice replaces the form's own offline line, and no toast repeats it.
    expect(page.get_by_role("status").filter(has_text="Het contact is bewaard")).to_be_visible()
    expect(page.get_by_text(re.compile("Geen verbinding")).filter(visible=True)).to_have_count(1)
    # The queued visit is labelled with the client's first name, not a case number.
    expect(queue).to_contain_text("huisbezoek · Yasmina")
    expect(queue).not_to_contain_text("Dossier")
    screenshot(page, "pwa-offline-visit-queued")
    stored = page.evaluate(QUEUE)
    assert len(stored) == 1
    assert stored[0]["action"] == f"/cases/{case.id}/visits"
    assert visits_of(case) == []

    go_online(page)
    # The page's own "online" event may have come before the worker's network was back.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.get_by_text("1 contact verstuurd.").wait_for()
    expect(queue).to_have_count(0)
    assert page.evaluate(QUEUE) == []
    visits = visits_of(case)
    assert len(visits) == 1
    assert visits[0].notes == "Wil graag zwemmen op woensdag. Zoekt een badpak."
    assert visits[0].duration_minutes == 45
    assert visits[0].idempotency_key == stored[0]["key"]
    assert len(visit_events_of(case)) == 1

    # The same visit arriving again (a second tab, a retry) is not stored twice.
    page.evaluate(PUT_IN_QUEUE, stored[0])
    page.goto(f"{live_server}/cases/{case.id}")
    page.get_by_text("1 contact verstuurd.").wait_for()
    assert page.evaluate(QUEUE) == []
    assert len(visits_of(case)) == 1
    assert len(visit_events_of(case)) == 1
    assert "zwemmen op woensdag" in page.get_by_role("main").inner_text()
    screenshot(page, "pwa-offline-visit-synced")


def test_real_visit_form_keeps_the_visit_when_the_connection_drops(
    page: Any, live_server: str, mediator: Any
) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    page.goto(f"{live_server}/cases/{case.id}/visits/new")
    fill_visit_form(page, "Telefonisch niet bereikt, dan langsgegaan.")
    go_offline(page)
    page.get_by_role("button", name="Contact bewaren").click()
    expect(page.get_by_role("region", name="Nog te versturen")).to_be_visible()
    assert len(page.evaluate(QUEUE)) == 1

    # Back online it goes out, on the "online" event or else at the next page load.
    go_online(page)
    page.reload()
    assert page.evaluate(QUEUE_EMPTIED)
    expect(page.get_by_role("region", name="Nog te versturen")).to_have_count(0)
    assert [v.notes for v in visits_of(case)] == ["Telefonisch niet bereikt, dan langsgegaan."]


def test_visit_for_a_case_closed_meanwhile_is_not_lost(
    page: Any, live_server: str, mediator: Any, coordinator: Any
) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    page.goto(f"{live_server}/cases/{case.id}")
    go_offline(page)
    page.goto(f"{live_server}/cases/{case.id}/visits/new")
    fill_visit_form(page, "Mama wil mee naar de eerste training.")
    page.get_by_role("button", name="Contact bewaren").click()
    expect(page.get_by_role("region", name="Nog te versturen")).to_be_visible()
    assert len(page.evaluate(QUEUE)) == 1

    # Meanwhile the coordinator closes the case.
    in_db(lambda: models.Case.get_by_id(case.id).close("independent", "", "", coordinator))
    go_online(page)
    # The page's own "online" event may have come before the worker's network was back.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    queue = page.get_by_role("region", name="Nog te versturen")
    queue.get_by_text("niet verstuurd").wait_for()
    text = queue.get_by_label("Je tekst (kopieer hem voor je verwijdert)")
    assert "Mama wil mee naar de eerste training." in text.input_value()
    assert visits_of(case) == []
    screenshot(page, "pwa-offline-visit-case-closed")

    queue.get_by_role("button", name="Verwijder van mijn telefoon").click()
    expect(queue).to_have_count(0)
    assert page.evaluate(QUEUE) == []


def test_logout_clears_the_phone_but_warns_about_unsent_visits(
    page: Any, live_server: str, mediator: Any
) -> None:
    case = make_case(mediator)
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    # A visit the server refused (its case was closed meanwhile) waits for the mediator.
    page.evaluate(
        PUT_IN_QUEUE,
        {
            "key": "a6b1c1b2-0000-4000-8000-000000000001",
            "action": f"/cases/{case.id}/visits",
            "caseId": str(case.id),
            "fields": [["notes", "Onverstuurd"]],
            "contactLabel": "huisbezoek",
            "queuedAt": "2026-01-01T10:00:00Z",
            "state": "problem",
            "problem": {"status": 409, "message": "Dit dossier is afgesloten.", "errors": {}},
        },
    )
    page.goto(f"{live_server}/")
    expect(page.get_by_role("region", name="Nog te versturen")).to_be_visible()

    messages: list[str] = []

    def dismiss(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    with page.expect_event("dialog"):
        page.get_by_role("button", name="Afmelden").click()
    assert messages and "niet verstuurd" in messages[0]
    assert "/login" not in page.url

    # A marker in the worker's cache shows whether logging out emptied it.
    page.evaluate(
        """async () => {
          const name = (await caches.keys()).find((n) => n.startsWith("vrijbaan-static-"));
          await (await caches.open(name)).put("/marker", new Response("left behind"));
        }"""
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(f"{live_server}/login")
    # Clear-Site-Data wiped the queue and the caches (the login page may start a new, empty one).
    assert page.evaluate(QUEUE) == []
    assert page.evaluate("async () => (await caches.match('/marker')) === undefined")


@pytest.mark.parametrize("width", [320])
def test_offline_visit_form_fits_a_small_phone(
    page: Any, live_server: str, mediator: Any, width: int
) -> None:
    case = make_case(mediator)
    page.set_viewport_size({"width": width, "height": 640})
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    go_offline(page)
    page.goto(f"{live_server}/cases/{case.id}/visits/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
    screenshot(page, "pwa-offline-visit-form-320")


def visit_waiting_in_the_queue(page: Any, live_server: str, mediator: Any) -> models.Case:
    """A visit to Yasmina recorded offline, waiting in the phone's queue; still offline."""
    case = make_case(mediator, make_client(first_name="Yasmina", last_name="Haddou"))
    log_in(page, live_server, mediator)
    service_worker_ready(page)
    page.goto(f"{live_server}/cases/{case.id}")
    go_offline(page)
    page.get_by_role("link", name="Contact registreren").first.click()
    page.wait_for_url(f"{live_server}/cases/{case.id}/visits/new")
    fill_visit_form(page, "Belt terug na de vakantie.")
    page.get_by_role("button", name="Contact bewaren").click()
    expect(page.get_by_role("region", name="Nog te versturen")).to_contain_text("Yasmina")
    return case


def test_a_send_that_finds_no_network_is_tried_again_without_a_tap(
    page: Any, live_server: str, mediator: Any
) -> None:
    """A phone says it is online a moment before its connection carries anything: the first
    send fails as if offline, and the queue tries again by itself."""
    case = visit_waiting_in_the_queue(page, live_server, mediator)

    failed: list[str] = []

    def first_send_fails(route: Any) -> None:
        if route.request.method == "POST" and not failed:
            failed.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.context.route(f"{live_server}/cases/{case.id}/visits", first_send_fails)
    go_online(page)  # one "online" event, whose send fails
    expect(page.get_by_role("region", name="Nog te versturen")).to_have_count(0, timeout=15000)
    assert failed == [f"{live_server}/cases/{case.id}/visits"]
    assert [v.notes for v in visits_of(case)] == ["Belt terug na de vakantie."]


def test_a_signal_that_comes_and_goes_for_minutes_is_tried_until_it_carries(
    page: Any, live_server: str, mediator: Any
) -> None:
    """On a bad street the phone says it is online but five sends in a row find no network:
    the queue keeps trying by itself (1, 3, 10 seconds, then every half minute), no tap."""
    case = visit_waiting_in_the_queue(page, live_server, mediator)
    queue = page.get_by_role("region", name="Nog te versturen")

    attempts: list[str] = []

    def five_sends_fail(route: Any) -> None:
        if route.request.method == "POST" and len(attempts) < 5:
            attempts.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.context.route(f"{live_server}/cases/{case.id}/visits", five_sends_fail)
    page.clock.install()  # the page's timers, run forward below: no real half minutes
    go_online(page)
    for tried in range(1, 6):
        for _ in range(100):  # the send of this try has failed
            if len(attempts) >= tried:
                break
            page.wait_for_timeout(100)
        assert len(attempts) == tried, attempts
        page.clock.run_for(30_000)
    expect(queue).to_have_count(0, timeout=15000)
    assert [v.notes for v in visits_of(case)] == ["Belt terug na de vakantie."]
