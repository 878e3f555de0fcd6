"""The bad-input sweep: every URL of the app, as anonymous, mediator and coordinator (and with
working capability links), with hostile values in every URL variable, query string and form
field — nothing may answer 5xx.

The demo data gives every URL a real record to work on. The forms are found the way a browser
finds them: on the app's own pages. Each field gets every hostile value once (field i gets value
(i + j) in request j, so a few requests cover every field and value), and once alone beside the
page's own valid values, so the code after validation meets it too. Requests alternate between
a plain and an htmx request.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask

from tests.conftest import HTMX, BrowserLikeClient
from webapp import auth, create_app, links, models
from webapp.db import database
from webapp.demo import DEMO_PASSWORD
from webapp.vraag import public as vraag_form

FILE = object()  # a file sent where the form has a text field
HOSTILE: list[Any] = [
    "",
    "x" * 10_000,
    "nul\x00byte",
    b"\xff\xfe\xc3(invalid utf-8",
    "\u202eRTL override 😀👨‍👩‍👧 مرحبا",
    "²",
    str(2**63),
    str(10**30),
    "-1",
    "-9223372036854775809",
    "2026-02-30",
    "0001-01-01T00:00",
    "99999-01-01",
    "not-one-of-the-choices",
    FILE,
]
HOSTILE_IN_QUERY = [value for value in HOSTILE if value is not FILE]
HOSTILE_IN_PATH = ["0", str(2**31), str(2**63), "9" * 40, "²", "x" * 300, "%00", "..%2F"]
# Query keys the views read, and keys that would collide with url_for()'s own arguments.
QUERY_KEYS = [
    "page", "before", "q", "status", "who", "step", "scope", "lang", "next", "start", "end",
    "provider", "archief", "domain", "district", "reduced", "age", "version", "key", "mediator",
    "endpoint", "_external", "_anchor", "_method", "_scheme",
]  # fmt: skip
# Would end the sweep's own session, or take away the coordinator's own app (after which every
# page asks to set one up again).
NEVER_BY_A_ROLE = {"auth.logout", "account.second_factor_remove"}
LAST = ("close", "anonymise", "deactivate", "revoke", "stop", "archive", "decline", "accept")


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> a valid value shown


class Forms(HTMLParser):
    """The forms of a page, with the value each field shows (what a browser would send)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("method", "get").lower(), a.get("action", "")))
        if not self.forms or not a.get("name"):
            return
        fields = self.forms[-1].fields
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a or name not in fields:
                    fields[name] = a.get("value", "y") if "checked" in a or kind == "radio" else ""
            elif kind not in ("submit", "button"):
                fields[name] = a.get("value", "")
        elif tag == "select":
            self.select = name
            fields.setdefault(name, "")
        elif tag == "option" and self.select:
            if "selected" in a or not fields.get(self.select):
                fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea and self.forms:
            self.forms[-1].fields[self.textarea] += data


def forms_of(html: str) -> list[Form]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class World:
    app: Flask
    values: dict[str, str]  # URL variable -> a real value
    tokens: dict[str, str]  # /p/ /a/ /r/ -> a working token
    mediator: models.User
    coordinator: models.User


@pytest.fixture
def world(database_url: str, monkeypatch) -> Iterator[World]:
    """The demo data, and the ids and tokens of records that hang together: the case of an
    enrolment with a provider link, its mediator, its threshold, visit and session."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "sweep-secret",
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": False,
            "PROPAGATE_EXCEPTIONS": False,  # a crash is a 500 to count, not an exception
        }
    )
    # Counters would answer 429 before the code behind them meets the input.
    for module, name in [
        (auth, "MAX_FAILURES_PER_ADDRESS"),
        (auth, "MAX_FAILURES_PER_ACCOUNT"),
        (links, "MAX_FAILED_LOOKUPS"),
        (vraag_form, "MAX_PER_ADDRESS"),
    ]:
        monkeypatch.setattr(module, name, 10**6)
    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    tokens = {
        prefix: re.search(rf"/{prefix}/([A-Za-z0-9_\-]+)", output).group(1)
        for prefix in ("p", "a", "r")
    }
    with database.connection_context():
        provider_link = models.AccessLink.find("provider", tokens["a"])
        enrolment = provider_link.enrolment
        case = enrolment.case
        session = models.Session.get(models.Session.enrolment == enrolment)
        organisation = models.AccessLink.find("referral", tokens["r"]).organisation
        referral = models.Referral.select().where(models.Referral.organisation == organisation)
        referral = referral.first() or models.Referral.select().first()
        coordinator = models.User.get(models.User.role == "coordinator")
        bystander = (
            models.User.select()
            .where(models.User.id.not_in([coordinator.id, case.mediator_id]))
            .first()
        )
        threshold = models.CaseThreshold.select().where(models.CaseThreshold.case == case).first()
        visit = models.Visit.select().where(models.Visit.case == case).first()
        task = models.Task.select().where(models.Task.case == case).first()
        values = {
            "case_id": case.id,
            "client_id": case.client_id,
            "activity_id": enrolment.activity_id,
            "provider_id": enrolment.activity.provider_id,
            "enrolment_id": enrolment.id,
            "session_id": session.id,
            "threshold_id": (threshold or models.CaseThreshold.select().first()).id,
            "visit_id": (visit or models.Visit.select().first()).id,
            "task_id": (task or models.Task.select().first()).id,
            "step_id": models.StepDefinition.select().first().id,
            "user_id": bystander.id,
            "referral_id": referral.id,
            "organisation_id": organisation.id,
            "reference": referral.reference,
            "hours_id": models.WalkInHours.select().first().id,
            "key": "x",
        }
        mediator = case.mediator
    yield World(app, {k: str(v) for k, v in values.items()}, tokens, mediator, coordinator)
    if not database.is_closed():
        database.close()


def url_of(rule: Any, world: World, override: dict[str, str] | None = None) -> str:
    """The rule's URL with real values (a working token for link pages), or the override."""
    override = override or {}

    def value(match: re.Match[str]) -> str:
        name = match.group(2)
        if name in override:
            return override[name]
        if name == "token":
            return world.tokens[rule.rule[1]]
        return world.values[name]

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", value, rule.rule)


def encode(pairs: list[tuple[str, Any]]) -> str:
    """A form body or query string; bytes go as they are (invalid UTF-8 included)."""
    return "&".join(
        quote(name) + "=" + quote(value if isinstance(value, bytes) else str(value).encode())
        for name, value in pairs
    )


class Sweep:
    """Sends the requests of one role and keeps what answered 5xx (or raised)."""

    def __init__(self, browser: BrowserLikeClient, role: str) -> None:
        self.browser, self.role = browser, role
        self.failures: list[str] = []
        self.statuses: dict[int, int] = defaultdict(int)
        self.n = 0

    def send(self, method: str, url: str, body: list[tuple[str, Any]] | None = None) -> None:
        self.n += 1
        headers = HTMX if self.n % 2 else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            if any(value is FILE for _name, value in body):
                kwargs["data"] = {
                    name: (io.BytesIO(b"%PDF-1.4 not text"), "brief.pdf")
                    if value is FILE
                    else (value.decode("latin-1") if isinstance(value, bytes) else value)
                    for name, value in body
                }
                kwargs["content_type"] = "multipart/form-data"
            else:
                kwargs["data"] = encode(body)
                kwargs["content_type"] = "application/x-www-form-urlencoded"
        try:
            response = self.browser.open(url, method=method, **kwargs)
            status = response.status_code
            response.close()
        except Exception as error:  # noqa: BLE001  (a crash the test client let through)
            status = 599
            self.failures.append(f"{self.role} {method} {url[:200]}: {error!r}"[:400])
        self.statuses[status // 100] += 1
        if status >= 500 and status != 599:
            shown = encode(body or [])[:300]
            self.failures.append(f"{self.role} {method} {url[:200]} [{shown}] → {status}")


def find_forms(world: World, browsers: list[BrowserLikeClient]) -> dict[str, list[Form]]:
    """Every form on every page the app shows (with real ids), by the path it posts to."""
    found: dict[str, list[Form]] = defaultdict(list)
    for rule in world.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        for browser in browsers:
            response = browser.get(url_of(rule, world))
            if not response.mimetype.startswith("text/"):
                continue  # a download (the reports' zip) holds no forms
            html = response.get_data(as_text=True)
            for form in forms_of(html):
                path = urlsplit(form.action).path or url_of(rule, world)
                found[path].append(form)
    return found


def sweep_get(sweep: Sweep, rule: Any, world: World, forms: dict[str, list[Form]]) -> None:
    url = url_of(rule, world)
    keys = list(QUERY_KEYS)
    for form in forms.get(url, []):
        keys += [name for name in form.fields if form.method == "get" and name not in keys]
    n = len(HOSTILE_IN_QUERY)
    for j in range(0, n, 2):  # each key meets every other value; the rotation covers the rest
        query = [(key, HOSTILE_IN_QUERY[(i + j) % n]) for i, key in enumerate(keys)]
        sweep.send("GET", url + "?" + encode(query))
    for j, value in enumerate(_path_variants(rule)):
        sweep.send("GET", url_of(rule, world, value) + ("?page=²" if j % 2 else ""))


def _path_variants(rule: Any) -> list[dict[str, str]]:
    """Hostile values for the URL's variables: two per variable, rotating through the list."""
    variants = []
    for i, name in enumerate(sorted(rule.arguments)):
        for j in (0, 1):
            variants.append({name: HOSTILE_IN_PATH[(2 * i + j + len(rule.rule)) % 8]})
    return variants


def sweep_post(sweep: Sweep, rule: Any, world: World, forms: dict[str, list[Form]]) -> None:
    url = url_of(rule, world)
    shown = [form for form in forms.get(url, []) if form.method == "post"]
    valid: dict[str, str] = {}
    for form in shown:
        valid.update(form.fields)
    names = [name for name in valid if name != "csrf_token"] or ["name", "email", "version"]
    n = len(HOSTILE)
    # Every field meets every hostile value ...
    for j in range(n):
        sweep.send("POST", url, [(name, HOSTILE[(i + j) % n]) for i, name in enumerate(names)])
    # ... and each one once alone, beside the valid values the page showed.
    for i, name in enumerate(names):
        body = [(other, HOSTILE[(i * 5) % n] if other == name else value)
                for other, value in valid.items() if other != "csrf_token"]  # fmt: skip
        sweep.send("POST", url, body)
    for value in _path_variants(rule)[:2]:
        sweep.send("POST", url_of(rule, world, value), [(names[0], HOSTILE[1])])


def ordered_rules(app: Flask) -> list[Any]:
    """Every rule but the static files; those that close or stop something last."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    return sorted(rules, key=lambda r: (any(w in r.endpoint for w in LAST), r.rule))


def test_no_url_answers_5xx_to_hostile_input(world: World) -> None:
    app = world.app
    app.test_client_class = BrowserLikeClient
    anonymous = app.test_client()
    mediator, coordinator = app.test_client(), app.test_client()
    for browser, user in ((mediator, world.mediator), (coordinator, world.coordinator)):
        browser.login(user, DEMO_PASSWORD)  # with the code of the coordinator's app
    anonymous.refresh_csrf()
    forms = find_forms(world, [coordinator, mediator, anonymous])
    assert len(forms) > 25, sorted(forms)  # the sweep found the app's forms

    sweeps = []
    for role, browser in (("anonymous", anonymous), ("mediator", mediator),
                          ("coordinator", coordinator)):  # fmt: skip
        sweep = Sweep(browser, role)
        for rule in ordered_rules(app):
            link_page = rule.rule[:3] in ("/p/", "/a/", "/r/")
            if role != "anonymous" and (rule.endpoint in NEVER_BY_A_ROLE or link_page):
                continue  # link pages: swept anonymously, as their visitors come
            if "GET" in rule.methods:
                sweep_get(sweep, rule, world, forms)
            if "POST" in rule.methods:
                if role == "anonymous" and not link_page and rule.rule != "/login":
                    sweep.send("POST", url_of(rule, world), [("name", HOSTILE[1])])
                else:
                    sweep_post(sweep, rule, world, forms)
        sweeps.append(sweep)
        # Still logged in at the end: the sweep did not quietly turn into login redirects.
        if role != "anonymous":
            home = browser.get("/")
            assert home.status_code == 200, (role, home.headers.get("Location"))
        assert sweep.statuses[2] > 50 and sweep.statuses[4] > 50, (role, dict(sweep.statuses))

    failures = [failure for sweep in sweeps for failure in sweep.failures]
    total = sum(sweep.n for sweep in sweeps)
    assert not failures, f"{len(failures)} of {total} requests failed:\n" + "\n".join(failures[:40])
