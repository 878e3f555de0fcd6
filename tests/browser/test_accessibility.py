"""Accessibility in Chromium at phone size, on the demo data: axe on every page (zero violations),
keyboard-only use, focus after htmx swaps, announcements, touch targets, 320 px and 200 % text.

The demo (seed-demo) is seeded once for this module and served from one thread; a page whose
endpoint does not exist yet is skipped with that reason, decided at run time from the URL map.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, enter_code, screenshot, served
from tests.conftest import CHEAP_HASH, PASSWORD, BuiltSchema
from webapp import create_app, models
from webapp.db import database
from webapp.timeutil import local_today


@dataclass
class Demo:
    app: Flask
    base: str
    links: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)
    cookies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def path(self, endpoint: str, **values: Any) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)


def _path(url: str) -> str:
    return urlsplit(url).path


def _ids() -> dict[str, int]:
    """A case of the demo mediator with an enrolment, an activity, a referral."""
    sara = models.User.get(models.User.email == "sara.elamrani@vrijbaan.demo")
    cases = models.Case.select().where(models.Case.mediator == sara, models.Case.status == "open")
    enrolled = (
        cases.join(models.Enrolment, on=(models.Enrolment.case == models.Case.id))
        .order_by(models.Case.id)
        .first()
    )
    case = enrolled or cases.order_by(models.Case.id).first()
    ids = {"case": case.id, "activity": models.Activity.select().first().id, "mediator": sara.id}
    ids["client"] = case.client_id
    closed = models.Case.select().where(models.Case.status == "closed").first()
    if closed is not None:
        ids["closed"] = closed.id
    referral = models.Referral.select().order_by(models.Referral.id).first()
    if referral is not None:
        ids["referral"] = referral.id
    hours = models.WalkInHours.select().first()
    if hours is not None:
        ids["hours"] = hours.id
    return ids


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, built_schema: BuiltSchema, browser: Any
) -> Iterator[Demo]:
    """The demo data on a fresh database, served on a free port for all tests of this module."""
    folder = tmp_path_factory.mktemp("a11y")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "a11y-secret",
            "DATABASE_URL": built_schema.url(folder),
            "SESSION_COOKIE_SECURE": False,
            "PUBLIC_BASE_URL": "http://demo.invalid",
        }
    )
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    links = {
        "client": re.search(r"Link voor cliënt \([^)]+\): (\S+)", result.output),
        "provider": re.search(r"Aanwezigheidslink voor aanbieder \([^)]+\): (\S+)", result.output),
        "provider-week": re.search(
            r"Aanwezigheidslink voor alle deelnemers \([^)]+\): (\S+)", result.output
        ),
        "referral": re.search(r"Doorverwijsformulier \([^)]+\): (\S+)", result.output),
    }
    with database.connection_context():
        # The demo's real password hash is slow on purpose; a cheap one keeps these tests quick.
        models.User.update(password_hash=CHEAP_HASH).execute()
        ids = _ids()
    with served(app) as base:
        demo = Demo(
            app=app,
            base=base,
            links={key: _path(match.group(1)) for key, match in links.items() if match},
            ids=ids,
        )
        for who, email in (
            ("mediator", "sara.elamrani@vrijbaan.demo"),
            ("coordinator", "els.janssens@vrijbaan.demo"),
        ):
            demo.cookies[who] = _logged_in_cookies(browser, demo, email, who == "coordinator")
        yield demo
    if not database.is_closed():
        database.close()


def _logged_in_cookies(browser: Any, demo: Demo, email: str, with_code: bool) -> Any:
    """The cookies of a login through the real form (and the app's code for a coordinator)."""
    context = browser.new_context(locale="nl-BE")
    page = context.new_page()
    page.goto(f"{demo.base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    if with_code:  # coordinators have an authenticator app
        page.wait_for_url(f"{demo.base}/twofactor/code")
        with database.connection_context():
            user = models.User.by_email(email)
        enter_code(page, demo.base, user)
    page.wait_for_url(f"{demo.base}/")
    cookies = context.cookies()
    context.close()
    return cookies


def _vraag_received(d: Demo, language: str) -> str:
    """The confirmation of /vraag for a person who asked to be called in the afternoon."""
    import datetime as dt

    from webapp.vraag.public import confirmation_token

    with d.app.test_request_context():
        token = confirmation_token(local_today() + dt.timedelta(days=7), "namiddag", "phone")
    return d.path("vraag.received", t=token, lang=language)


@dataclass
class Page:
    name: str
    who: str | None  # "mediator", "coordinator" or None (nobody logged in)
    endpoint: str | None  # None: a URL that exists for no endpoint (an error page)
    build: Callable[[Demo], str]
    needs: tuple[str, ...] = ()


PAGES = [
    Page("login", None, "auth.login", lambda d: d.path("auth.login")),
    Page("vandaag", "mediator", "today.index", lambda d: d.path("today.index")),
    Page("caseload", "mediator", "cases.index", lambda d: d.path("cases.index")),
    Page("case", "mediator", "cases.show", lambda d: d.path("cases.show", case_id=d.ids["case"])),
    Page(
        "visit-form",
        "mediator",
        "visits.new",
        lambda d: d.path("visits.new", case_id=d.ids["case"]),
    ),
    Page("new-case", "mediator", "cases.new", lambda d: d.path("cases.new")),
    Page(
        "thresholds",
        "mediator",
        "thresholds.new",
        lambda d: d.path("thresholds.new", case_id=d.ids["case"]),
    ),
    Page("activities", "mediator", "activities.index", lambda d: d.path("activities.index")),
    Page(
        "activity",
        "mediator",
        "activities.show",
        lambda d: d.path("activities.show", activity_id=d.ids["activity"]),
    ),
    Page(
        "choose-activity",
        "mediator",
        "activities.choose",
        lambda d: d.path("activities.choose", case_id=d.ids["case"]),
    ),
    Page(
        "enrolment",
        "mediator",
        "activities.enrol_form",
        lambda d: d.path(
            "activities.enrol_form", case_id=d.ids["case"], activity_id=d.ids["activity"]
        ),
    ),
    Page("reports", "coordinator", "reports.index", lambda d: d.path("reports.index")),
    Page("signals", "coordinator", "reports.signals", lambda d: d.path("reports.signals")),
    Page("intake", "coordinator", "referrals.index", lambda d: d.path("referrals.index")),
    Page(
        "referral",
        "coordinator",
        "referrals.show",
        lambda d: d.path("referrals.show", referral_id=d.ids["referral"]),
        needs=("referral",),
    ),
    Page("colleagues", "coordinator", "cases.colleagues", lambda d: d.path("cases.colleagues")),
    Page("users", "coordinator", "admin.index", lambda d: d.path("admin.index")),
    Page(
        "user",
        "coordinator",
        "admin.edit",
        lambda d: d.path("admin.edit", user_id=d.ids["mediator"]),
    ),
    Page("account", "mediator", "account.index", lambda d: d.path("account.index")),
    Page(
        "second-factor-set-up",
        "mediator",
        "account.second_factor",
        lambda d: d.path("account.second_factor"),
    ),
    Page(
        "second-factor-on",
        "coordinator",
        "account.second_factor",
        lambda d: d.path("account.second_factor"),
    ),
    Page("confirm", "mediator", "twofactor.confirm", lambda d: d.path("twofactor.confirm")),
    Page("security", "coordinator", "admin.security", lambda d: d.path("admin.security")),
    Page("messages", "coordinator", "messages.index", lambda d: d.path("messages.index")),
    Page(
        "anonymise",
        "coordinator",
        "cases.anonymise_form",
        lambda d: d.path("cases.anonymise_form", case_id=d.ids["closed"]),
        needs=("closed",),
    ),
    Page(
        "audit",
        "coordinator",
        "cases.audit",
        lambda d: d.path("cases.audit", case_id=d.ids["case"]),
    ),
    Page("te-wissen", "coordinator", "privacy.due", lambda d: d.path("privacy.due")),
    Page("record", "coordinator", "privacy.record", lambda d: d.path("privacy.record")),
    Page("notice", None, "notice.notice", lambda d: d.path("notice.notice")),
    Page("notice-ar", None, "notice.notice", lambda d: d.path("notice.notice", lang="ar")),
    Page(
        "export",
        "coordinator",
        "privacy.export",
        lambda d: d.path("privacy.export", client_id=d.ids["client"]),
    ),
    Page(
        "client-nl",
        None,
        "portal.show",
        lambda d: d.links["client"] + "?lang=nl",
        needs=("client",),
    ),
    Page(
        "client-ar",
        None,
        "portal.show",
        lambda d: d.links["client"] + "?lang=ar",
        needs=("client",),
    ),
    Page(
        "client-uk",
        None,
        "portal.show",
        lambda d: d.links["client"] + "?lang=uk",
        needs=("client",),
    ),
    Page("provider", None, "attendance.show", lambda d: d.links["provider"], needs=("provider",)),
    Page(
        "provider-week",
        None,
        "attendance.show",
        lambda d: d.links["provider-week"],
        needs=("provider-week",),
    ),
    Page(
        "referral-form", None, "referrals.form", lambda d: d.links["referral"], needs=("referral",)
    ),
    Page("vraag", None, "vraag.page", lambda d: d.path("vraag.page")),
    Page("vraag-ar", None, "vraag.page", lambda d: d.path("vraag.page", lang="ar")),
    Page("vraag-received", None, "vraag.received", lambda d: _vraag_received(d, "nl")),
    Page("vraag-received-ar", None, "vraag.received", lambda d: _vraag_received(d, "ar")),
    Page("vraag-poster", None, "vraag.poster", lambda d: d.path("vraag.poster")),
    Page(
        "walk-in-hours", "coordinator", "vraag.hours_index", lambda d: d.path("vraag.hours_index")
    ),
    Page(
        "walk-in-edit",
        "coordinator",
        "vraag.hours_edit",
        lambda d: d.path("vraag.hours_edit", hours_id=d.ids["hours"]),
        needs=("hours",),
    ),
    Page("offline", None, "pwa.offline", lambda d: d.path("pwa.offline")),
    Page("offline-visit", None, "pwa.offline_visit", lambda d: d.path("pwa.offline_visit")),
    Page("error-404", "mediator", None, lambda d: "/cases/999999"),
    Page("error-404-anonymous", None, None, lambda d: "/nergens"),
    Page("link-unknown", None, "portal.show", lambda d: "/p/" + "x" * 43),
]


def open_page(page: Any, demo: Demo, spec: Page) -> str:
    """Log in as the page's user and open the page (a page renamed, or demo data it needs
    gone, fails here: a skip would hide that the page is no longer checked)."""
    assert not spec.endpoint or spec.endpoint in demo.app.view_functions, spec.endpoint
    missing = [need for need in spec.needs if need not in demo.links and need not in demo.ids]
    assert missing == [], f"the demo data has no {', '.join(missing)}"
    if spec.who:
        page.context.add_cookies(demo.cookies[spec.who])
    path = spec.build(demo)
    page.goto(demo.base + path, wait_until="networkidle")
    return path


STICKING_OUT = """(width) => document.documentElement.scrollWidth <= width ? [] :
  [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest(".table-wrap"))
    .slice(-5)
    .map((e) => `${e.tagName}.${e.className} ${(e.textContent || "").trim().slice(0, 30)}`)"""


@pytest.mark.presentation
@pytest.mark.parametrize("spec", PAGES, ids=[spec.name for spec in PAGES])
def test_axe_finds_nothing_and_nothing_scrolls_sideways_at_320_px(
    page: Any, demo: Demo, spec: Page
) -> None:
    """One load, two checks: axe at the phone's width, then the same page at 320 px (the
    layout follows the viewport, as on a phone turned or a smaller phone)."""
    open_page(page, demo, spec)
    screenshot(page, f"a11y-{spec.name}")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate(STICKING_OUT, 320) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def focused(page: Any) -> dict[str, Any]:
    """What has the keyboard focus: tag, name, label text and whether a focus ring shows."""
    return page.evaluate(
        """() => {
          const e = document.activeElement;
          const label = e.labels && e.labels[0] ? e.labels[0].textContent.trim() : "";
          const style = getComputedStyle(e);
          return {
            tag: e.tagName, name: e.name || "", id: e.id || "", type: e.type || "",
            text: (label || e.textContent || "").trim().slice(0, 60),
            ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
            inMain: Boolean(e.closest("main")),
          };
        }"""
    )


def tab_to(page: Any, wanted: Callable[[dict[str, Any]], bool], limit: int = 60) -> dict[str, Any]:
    """Press Tab until the focused element is the wanted one (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"Tab never reached the element; last focus: {focused(page)}")


def test_login_with_the_keyboard_only(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.base}/login")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Naar de inhoud" and first["ring"]
    assert tab_to(page, lambda f: f["text"] == "E-mailadres")["ring"]
    page.keyboard.type("sara.elamrani@vrijbaan.demo")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Wachtwoord"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    button = focused(page)
    assert button["text"] == "Aanmelden" and button["ring"]
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/")
    assert page.get_by_role("heading", level=1).is_visible()


def test_visit_form_with_the_keyboard_only(page: Any, demo: Demo) -> None:
    page.context.add_cookies(demo.cookies["mediator"])
    case_id = demo.ids["case"]
    page.goto(demo.base + demo.path("visits.new", case_id=case_id))
    # The contact types are a radio group: Tab into it, arrow keys move, Space chooses.
    tab_to(page, lambda f: f["name"] == "contact_type")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    chosen = page.evaluate("document.querySelector('[name=contact_type]:checked').value")
    assert chosen
    assert tab_to(page, lambda f: f["name"] == "notes")["ring"]
    page.keyboard.type("Met de toetsen ingevuld: wil naar de bib op zaterdag.")
    tab_to(page, lambda f: f["text"] == "Contact bewaren")
    page.keyboard.press("Enter")
    page.wait_for_url(demo.base + demo.path("cases.show", case_id=case_id))
    # The result is said out loud, and it is stored.
    expect(page.locator("[role=status]").filter(has_text="Contact bewaard.")).not_to_have_count(0)
    with database.connection_context():
        stored = models.Visit.get_or_none(
            models.Visit.notes == "Met de toetsen ingevuld: wil naar de bib op zaterdag."
        )
    assert stored is not None and stored.contact_type == chosen


def test_focus_after_an_htmx_swap_lands_on_what_needs_attention(page: Any, demo: Demo) -> None:
    page.context.add_cookies(demo.cookies["mediator"])
    page.goto(demo.base + demo.path("visits.new", case_id=demo.ids["case"]))
    page.get_by_text("Wanneer, duur en plaats").click()  # folded: the defaults are usually right
    page.get_by_label("Wanneer", exact=True).fill("")
    page.get_by_role("button", name="Contact bewaren").click()
    expect(page.locator(".error").first).to_be_visible()
    # The focus moves once htmx has settled the swap, a moment after the errors appear.
    page.wait_for_function("document.activeElement && document.activeElement !== document.body")
    now = focused(page)
    # Not lost on <body>: on the form's first problem, where a screen reader reads the error.
    assert now["inMain"], now
    assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true", now


def test_search_keeps_the_focus_in_the_search_box(page: Any, demo: Demo) -> None:
    page.context.add_cookies(demo.cookies["mediator"])
    page.goto(demo.base + demo.path("cases.index"))
    search = page.get_by_role("searchbox").first
    search.focus()
    with page.expect_response(lambda r: "/cases/" in r.url and r.request.headers.get("hx-request")):
        page.keyboard.type("Bou")
    expect(search).to_be_focused()


TARGETS = """() => {
  const small = [];
  const seen = new Set();
  for (const e of document.querySelectorAll(
      "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]")) {
    if (e.closest("[hidden]") || e.classList.contains("skip")) continue;
    let box = e.getBoundingClientRect();
    if (e.type === "checkbox" || e.type === "radio") {
      // The label is part of the target: measure what one can tap.
      const label = e.closest("label") || (e.labels && e.labels[0]);
      const holder = e.closest(".field.check, .choice") || label;
      if (holder) box = holder.getBoundingClientRect();
    }
    if (box.width === 0 && box.height === 0) continue;
    const style = getComputedStyle(e);
    if (style.visibility === "hidden") continue;
    if (e.tagName === "A" && style.display === "inline") {
      // Links inside a sentence are exempt (WCAG 2.5.8, inline).
      const text = (e.parentElement.textContent || "").trim();
      if (text.length > (e.textContent || "").trim().length + 3) continue;
    }
    if (box.height < 44 || box.width < 44) {
      const key = e.tagName + (e.textContent || e.name || "").trim().slice(0, 30);
      if (!seen.has(key)) {
        seen.add(key);
        small.push(`${e.tagName} "${(e.textContent || e.name || e.type).trim().slice(0, 30)}" `
          + `${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
  }
  return small;
}"""

TARGET_PAGES = [
    spec
    for spec in PAGES
    if spec.name
    in (
        "login",
        "vandaag",
        "case",
        "visit-form",
        "caseload",
        "client-nl",
        "provider",
        "referral-form",
        "offline",
        "account",
        "vraag",
        "vraag-received",
    )
]


@pytest.mark.presentation
@pytest.mark.parametrize("spec", TARGET_PAGES, ids=[spec.name for spec in TARGET_PAGES])
def test_touch_targets_are_at_least_44_px(page: Any, demo: Demo, spec: Page) -> None:
    open_page(page, demo, spec)
    assert page.evaluate(TARGETS) == []


TEXT_PAGES = [
    spec
    for spec in PAGES
    if spec.name
    in (
        "login",
        "vandaag",
        "case",
        "visit-form",
        "client-ar",
        "referral-form",
        "account",
        "vraag-ar",
    )
]


@pytest.mark.presentation
@pytest.mark.parametrize("spec", TEXT_PAGES, ids=[spec.name for spec in TEXT_PAGES])
def test_usable_at_200_percent_text(page: Any, demo: Demo, spec: Page) -> None:
    open_page(page, demo, spec)
    # What the phone's "larger text" setting does: every rem and em doubles.
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "32px"
    screenshot(page, f"a11y-200-{spec.name}")
    assert page.evaluate(STICKING_OUT, 390) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Every button still shows its whole label.
    clipped = page.evaluate(
        """() => [...document.querySelectorAll("main button, main .button")]
          .filter((e) => e.offsetParent && (e.scrollWidth > e.clientWidth + 1))
          .map((e) => e.textContent.trim())"""
    )
    assert clipped == []
