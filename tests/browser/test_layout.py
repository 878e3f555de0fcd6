"""Every menu, popover and panel fits the screen: on every page of the app, as the mediator and
the coordinator on the demo data, at 320, 360 and 412 px and at a desktop width, each summary and
[aria-expanded] control is opened and nothing visible sticks out of the viewport. Menus close
with Escape and with a tap outside.

Uses the demo of test_accessibility (seeded once per module, served from one thread).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import Demo, demo  # noqa: F401 (the module's fixture)
from webapp import models
from webapp.db import database
from webapp.timeutil import local_today

WIDTHS = (320, 360, 412, 1280)

# GET endpoints that answer no HTML page: a worker script, a token, a calendar, CSV files.
NOT_PAGES = {
    "static",
    "pwa.service_worker",
    "pwa.token",
    "portal.calendar",
    "reports.export",
    "reports.signals_csv",
    "health.healthz",  # plain text for the load balancer
    "reports.export_all",  # a zip file
    # Needs a login halfway (password given, code not yet); it has no menu, and its width is
    # checked in tests/browser/test_twofactor.py.
    "twofactor.code",
}


@dataclass
class Screen:
    name: str
    who: str | None
    endpoint: str
    build: Callable[[Demo, dict[str, Any]], str]


def _ids() -> dict[str, Any]:
    """Rows of the demo to open every page with: the mediator's own where it matters."""
    sara = models.User.get(models.User.email == "sara.elamrani@vrijbaan.demo")
    mine = models.Case.select().where(models.Case.mediator == sara)
    enrolment = (
        models.Enrolment.select()
        .join(models.Case)
        .where(models.Case.mediator == sara, models.Case.status == "open")
        .order_by(models.Enrolment.id)
        .first()
    )
    threshold = (
        models.CaseThreshold.select().where(models.CaseThreshold.case == enrolment.case_id).first()
        or models.CaseThreshold.select()
        .join(models.Case)
        .where(models.Case.mediator == sara)
        .first()
    )
    planned = (
        models.Visit.select()
        .join(models.Case)
        .where(models.Case.mediator == sara, models.Case.status == "open", models.Visit.planned)
        .first()
    )
    organisation = models.ReferringOrganisation.select().order_by(models.ReferringOrganisation.id)
    recorded = (
        models.Visit.select()
        .join(models.Case)
        .where(
            models.Case.mediator == sara,
            models.Case.status == "open",
            models.Visit.planned == False,  # noqa: E712
            models.Visit.removed_at.is_null(),
        )
        .order_by(models.Visit.id.desc())
        .first()
    )
    return {
        "recorded": recorded.id,
        "client": models.Case.get_by_id(enrolment.case_id).client_id,
        "case": enrolment.case_id,
        "enrolment": enrolment.id,
        "activity": enrolment.activity_id,
        "closed": mine.where(models.Case.status == "closed").first().id,
        "threshold": threshold,
        "planned": planned.id,
        "provider": models.Provider.select().first().id,
        "organisation": organisation.first().id,
        "referral": models.Referral.select().order_by(models.Referral.id).first().id,
        "user": sara.id,
        "hours": models.WalkInHours.select().first().id,
        "references": {
            r.organisation_id: r.reference
            for r in models.Referral.select().order_by(models.Referral.id)
        },
    }


def _received(d: Demo, ids: dict[str, Any]) -> str:
    """The referrer's confirmation page, for a referral of the demo link's organisation."""
    token = d.links["referral"].rsplit("/", 1)[-1]
    with database.connection_context():
        link = models.AccessLink.find("referral", token)
        reference = ids["references"][link.organisation_id]
    return d.path("referrals.received", token=token, reference=reference)


def _vraag_received(d: Demo, ids: dict[str, Any]) -> str:
    """The confirmation of /vraag, as a person who asked for a call in the afternoon sees it."""
    from webapp.vraag.public import confirmation_token

    with d.app.test_request_context():
        token = confirmation_token(local_today() + dt.timedelta(days=7), "namiddag", "phone")
    return d.path("vraag.received", t=token, lang="ar")


def _threshold(endpoint: str) -> Callable[[Demo, dict[str, Any]], str]:
    def build(d: Demo, ids: dict[str, Any]) -> str:
        t = ids["threshold"]
        return d.path(endpoint, case_id=t.case_id, threshold_id=t.id)

    return build


M, C = "mediator", "coordinator"
SCREENS = [
    Screen("login", None, "auth.login", lambda d, i: d.path("auth.login")),
    Screen("vandaag", M, "today.index", lambda d, i: d.path("today.index")),
    Screen("vandaag-team", C, "today.index", lambda d, i: d.path("today.index", scope="team")),
    Screen("caseload", M, "cases.index", lambda d, i: d.path("cases.index")),
    Screen("caseload-team", C, "cases.index", lambda d, i: d.path("cases.index", status="all")),
    Screen("new-case", M, "cases.new", lambda d, i: d.path("cases.new")),
    Screen("case", M, "cases.show", lambda d, i: d.path("cases.show", case_id=i["case"])),
    Screen("case-coord", C, "cases.show", lambda d, i: d.path("cases.show", case_id=i["case"])),
    Screen("closed", C, "cases.show", lambda d, i: d.path("cases.show", case_id=i["closed"])),
    Screen(
        "client",
        M,
        "cases.edit_client",
        lambda d, i: d.path("cases.edit_client", case_id=i["case"]),
    ),
    Screen(
        "close", M, "cases.close_form", lambda d, i: d.path("cases.close_form", case_id=i["case"])
    ),
    Screen(
        "assign",
        C,
        "cases.assign_form",
        lambda d, i: d.path("cases.assign_form", case_id=i["case"]),
    ),
    Screen("audit", C, "cases.audit", lambda d, i: d.path("cases.audit", case_id=i["case"])),
    Screen("colleagues", C, "cases.colleagues", lambda d, i: d.path("cases.colleagues")),
    Screen(
        "anonymise",
        C,
        "cases.anonymise_form",
        lambda d, i: d.path("cases.anonymise_form", case_id=i["closed"]),
    ),
    Screen("visit", M, "visits.new", lambda d, i: d.path("visits.new", case_id=i["case"])),
    Screen("planned", M, "visits.edit", lambda d, i: d.path("visits.edit", visit_id=i["planned"])),
    Screen(
        "move",
        M,
        "visits.move_form",
        lambda d, i: d.path("visits.move_form", visit_id=i["planned"]),
    ),
    Screen(
        "cancel",
        M,
        "visits.cancel_form",
        lambda d, i: d.path("visits.cancel_form", visit_id=i["planned"]),
    ),
    Screen(
        "correct",
        C,
        "visits.correct_form",
        lambda d, i: d.path("visits.correct_form", visit_id=i["recorded"]),
    ),
    Screen(
        "remove",
        C,
        "visits.remove_form",
        lambda d, i: d.path("visits.remove_form", visit_id=i["recorded"]),
    ),
    Screen("tasks", M, "tasks.index", lambda d, i: d.path("tasks.index")),
    Screen(
        "thresholds",
        M,
        "thresholds.index",
        lambda d, i: d.path("thresholds.index", case_id=i["threshold"].case_id),
    ),
    Screen(
        "threshold-new",
        M,
        "thresholds.new",
        lambda d, i: d.path("thresholds.new", case_id=i["case"]),
    ),
    Screen("threshold", M, "thresholds.show", _threshold("thresholds.show")),
    Screen("threshold-edit", M, "thresholds.edit", _threshold("thresholds.edit")),
    Screen("offer", M, "activities.index", lambda d, i: d.path("activities.index")),
    Screen(
        "activity",
        M,
        "activities.show",
        lambda d, i: d.path("activities.show", activity_id=i["activity"]),
    ),
    Screen(
        "choose",
        M,
        "activities.choose",
        lambda d, i: d.path("activities.choose", case_id=i["case"]),
    ),
    Screen(
        "enrol",
        M,
        "activities.enrol_form",
        lambda d, i: d.path("activities.enrol_form", case_id=i["case"], activity_id=i["activity"]),
    ),
    Screen(
        "stop",
        M,
        "activities.stop_form",
        lambda d, i: d.path("activities.stop_form", case_id=i["case"], enrolment_id=i["enrolment"]),
    ),
    Screen("activity-new", C, "activities.new", lambda d, i: d.path("activities.new")),
    Screen(
        "activity-edit",
        C,
        "activities.edit",
        lambda d, i: d.path("activities.edit", activity_id=i["activity"]),
    ),
    Screen("providers", C, "activities.providers", lambda d, i: d.path("activities.providers")),
    Screen(
        "provider-new", C, "activities.new_provider", lambda d, i: d.path("activities.new_provider")
    ),
    Screen(
        "provider-edit",
        C,
        "activities.edit_provider",
        lambda d, i: d.path("activities.edit_provider", provider_id=i["provider"]),
    ),
    Screen("intake", C, "referrals.index", lambda d, i: d.path("referrals.index")),
    Screen(
        "referral",
        C,
        "referrals.show",
        lambda d, i: d.path("referrals.show", referral_id=i["referral"]),
    ),
    Screen(
        "organisations",
        C,
        "referrals.organisations",
        lambda d, i: d.path("referrals.organisations"),
    ),
    Screen(
        "organisation",
        C,
        "referrals.organisation",
        lambda d, i: d.path("referrals.organisation", organisation_id=i["organisation"]),
    ),
    Screen("vraag", None, "vraag.page", lambda d, i: d.path("vraag.page")),
    Screen("vraag-ar", None, "vraag.page", lambda d, i: d.path("vraag.page", lang="ar")),
    Screen("vraag-received", None, "vraag.received", _vraag_received),
    Screen("vraag-poster", None, "vraag.poster", lambda d, i: d.path("vraag.poster")),
    Screen("walk-in-hours", C, "vraag.hours_index", lambda d, i: d.path("vraag.hours_index")),
    Screen("walk-in-new", C, "vraag.hours_new", lambda d, i: d.path("vraag.hours_new")),
    Screen(
        "walk-in-edit",
        C,
        "vraag.hours_edit",
        lambda d, i: d.path("vraag.hours_edit", hours_id=i["hours"]),
    ),
    Screen("reports", C, "reports.index", lambda d, i: d.path("reports.index")),
    Screen("signals", C, "reports.signals", lambda d, i: d.path("reports.signals")),
    Screen("messages", C, "messages.index", lambda d, i: d.path("messages.index")),
    Screen("users", C, "admin.index", lambda d, i: d.path("admin.index")),
    Screen("user-new", C, "admin.new", lambda d, i: d.path("admin.new")),
    Screen("user", C, "admin.edit", lambda d, i: d.path("admin.edit", user_id=i["user"])),
    Screen("account", M, "account.index", lambda d, i: d.path("account.index")),
    Screen("account-coord", C, "account.index", lambda d, i: d.path("account.index")),
    Screen(
        "second-factor", M, "account.second_factor", lambda d, i: d.path("account.second_factor")
    ),
    Screen("confirm", C, "twofactor.confirm", lambda d, i: d.path("twofactor.confirm", next="/")),
    Screen("security", C, "admin.security", lambda d, i: d.path("admin.security")),
    Screen("to-erase", C, "privacy.due", lambda d, i: d.path("privacy.due")),
    Screen("record", C, "privacy.record", lambda d, i: d.path("privacy.record")),
    Screen(
        "export",
        C,
        "privacy.export",
        lambda d, i: d.path("privacy.export", client_id=i["client"]),
    ),
    Screen("notice", None, "notice.notice", lambda d, i: d.path("notice.notice")),
    Screen(
        "referral-status",
        None,
        "referrals.status_list",
        lambda d, i: d.links["referral"] + "/opvolging",
    ),
    Screen("portal", None, "portal.show", lambda d, i: d.links["client"]),
    Screen("attendance", None, "attendance.show", lambda d, i: d.links["provider"]),
    Screen("referral-form", None, "referrals.form", lambda d, i: d.links["referral"]),
    Screen("referral-received", None, "referrals.received", _received),
    Screen("offline", None, "pwa.offline", lambda d, i: d.path("pwa.offline")),
    Screen("offline-visit", None, "pwa.offline_visit", lambda d, i: d.path("pwa.offline_visit")),
]

# In the page: open every closed summary and [aria-expanded=false] control one after the other
# and, after each, list the visible elements that are partly on screen but not wholly inside
# 0 … innerWidth (a skip link wholly off screen is fine, and so is anything in a scroll box).
OPEN_AND_MEASURE = """() => {
  const width = window.innerWidth;
  const scrolls = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  };
  const outside = (after) => {
    const found = [];
    for (const e of document.body.querySelectorAll("*")) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      // Not rendered: hidden, or inside a closed <details> (kept in layout by Chromium).
      if (!e.checkVisibility({visibilityProperty: true})) continue;
      if (r.right <= 0 || r.left >= width) continue;  // wholly off screen
      if (r.left >= -1 && r.right <= width + 1) continue;
      if (scrolls(e)) continue;
      const text = (e.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
      found.push(`${after}: ${e.tagName.toLowerCase()}.${e.className} [${Math.round(r.left)}…`
        + `${Math.round(r.right)}] "${text}"`);
    }
    return found;
  };
  const shown = (e) => e.checkVisibility({visibilityProperty: true});
  const problems = outside("loaded");
  const opened = [];
  const done = new Set();
  for (let round = 0; round < 40; round++) {
    const controls = "details:not([open]) > summary, [aria-expanded=false]";
    const next = [...document.querySelectorAll(controls)]
      .find((e) => !done.has(e) && shown(e));
    if (!next) break;
    done.add(next);
    const name = (next.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 30);
    next.click();
    opened.push(name);
    problems.push(...outside(`opened "${name}"`));
  }
  return {problems: [...new Set(problems)].slice(0, 12), opened};
}"""


@pytest.fixture(scope="module")
def ids(demo: Demo) -> dict[str, Any]:  # noqa: F811
    with database.connection_context():
        return _ids()


def test_every_page_is_listed(demo: Demo) -> None:  # noqa: F811
    """A new page must be added here, so that its menus are measured too."""
    pages = {
        rule.endpoint
        for rule in demo.app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint not in NOT_PAGES
    }
    assert pages - {s.endpoint for s in SCREENS} == set()


@pytest.mark.presentation
@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_every_menu_and_panel_fits_the_screen(
    page: Any,
    demo: Demo,  # noqa: F811
    ids: dict[str, Any],
    screen: Screen,
) -> None:
    if screen.who:
        page.context.add_cookies(demo.cookies[screen.who])
    url = demo.base + screen.build(demo, ids)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    report = {}
    for width in WIDTHS:
        # One load, four widths: the layout follows the viewport; close what the last round
        # opened so that every control is opened again at this width.
        page.set_viewport_size({"width": width, "height": 800})
        page.evaluate(
            "document.querySelectorAll('details[open]').forEach((d) => { d.open = false; })"
        )
        result = page.evaluate(OPEN_AND_MEASURE)
        if result["problems"]:
            report[width] = result["problems"]
    assert report == {}


def test_the_case_menu_fits_and_closes_with_escape_and_a_tap_outside(
    page: Any,
    demo: Demo,  # noqa: F811
    ids: dict[str, Any],
) -> None:
    page.context.add_cookies(demo.cookies["coordinator"])
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(demo.base + demo.path("cases.show", case_id=ids["case"]))
    menu = page.locator("details.menu")
    more = menu.locator("summary")
    more.tap()
    item = page.get_by_role("link", name="Wie keek in dit dossier")
    expect(item).to_be_visible()
    box = page.locator(".menu-list").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    screenshot(page, "layout-case-menu-360")

    page.keyboard.press("Escape")
    expect(item).to_be_hidden()
    expect(more).to_be_focused()

    more.tap()
    expect(item).to_be_visible()
    page.get_by_role("heading", level=1).tap()
    expect(item).to_be_hidden()

    # The menu still works: a tap on an item follows it.
    more.tap()
    item.tap()
    page.wait_for_url("**/audit")


def inside(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_vandaag_shows_where_to_go_and_whom_to_call(
    page: Any,
    demo: Demo,  # noqa: F811
) -> None:
    page.context.add_cookies(demo.cookies["mediator"])
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(demo.base + demo.path("today.index"))
    planned = page.locator("#today-planned-title + .list")
    home = planned.locator(".map-link").first
    expect(home).to_be_visible()
    assert home.get_attribute("href").startswith("https://www.openstreetmap.org/search?query=")
    assert home.get_attribute("rel") == "noopener noreferrer"
    assert planned.locator('a[href^="tel:+32"]').count() >= 1
    assert inside(page, home)
    screenshot(page, "layout-vandaag-360")


# Last in this module: it makes new links on the demo case (the demo's own provider link stops).
def test_each_share_panel_stays_until_it_is_dismissed(
    page: Any,
    demo: Demo,  # noqa: F811
    ids: dict[str, Any],
) -> None:
    page.context.add_cookies(demo.cookies["mediator"])
    page.set_viewport_size({"width": 320, "height": 740})
    page.goto(demo.base + demo.path("cases.show", case_id=ids["case"]))
    client_card = page.locator("#client-link")
    client_card.get_by_role("button", name=re.compile("Link maken en delen")).tap()
    mine = page.locator("#share-box-client")
    expect(mine).to_be_visible()
    sms = mine.get_by_role("link", name="Sms").get_attribute("href")
    assert sms.startswith("sms:+32") and "?body=" in sms
    assert (
        mine.get_by_role("link", name="WhatsApp")
        .get_attribute("href")
        .startswith("https://wa.me/32")
    )

    enrolment = page.locator(f"#enrolment-{ids['enrolment']}")
    enrolment.get_by_role("button", name=re.compile("ink voor aanbieder")).tap()
    theirs = enrolment.locator(".share-box")
    expect(theirs).to_be_visible()
    # The client's panel, not shared yet, is still there.
    expect(mine).to_be_visible()
    for width in (320, 360, 412):
        page.set_viewport_size({"width": width, "height": 740})
        assert inside(page, mine) and inside(page, theirs), width
    page.set_viewport_size({"width": 360, "height": 740})
    theirs.scroll_into_view_if_needed()
    screenshot(page, "layout-share-panels-360")

    mine.get_by_role("button", name="Klaar, sluiten").tap()
    expect(mine).to_have_count(0)
    expect(theirs).to_be_visible()
    expect(client_card.get_by_role("heading")).to_be_focused()
