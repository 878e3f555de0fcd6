"""Access control over every URL of the app, found from the URL map so new screens are covered.

Everything needs a login except the public doors (the login page and its second step, static
files, the service worker, and the capability links /p/, /a/ and /r/). A case's URLs answer 404
to a mediator who does not own the case, whatever the method; a coordinator reaches them. A
coordinator's page answers 403 to everyone else, whichever case it names.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter, Rule

from tests.conftest import HTMX, make_case
from webapp import create_app

PUBLIC_PREFIXES = (
    "/static/",
    "/login",
    "/twofactor/code",
    "/sw.js",
    "/offline",
    "/p/",
    "/a/",
    "/r/",
    "/manifest",
    "/healthz",  # the load balancer's health check: no login, no personal data
    "/privacyverklaring",  # the privacy notice for clients: public, nothing personal
)
# The citizens' front door, its confirmation and poster (its walk-in hours screens are not).
PUBLIC_PATHS = {"/vraag", "/vraag/ontvangen", "/vraag/affiche"}


APP = create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite:///:memory:", "TESTING": True})


def _rules() -> list[Rule]:
    return sorted(APP.url_map.iter_rules(), key=lambda r: r.rule)


def _coordinators_only(rule: Rule) -> bool:
    """Guarded by auth.coordinator_required: on the view, or on its blueprint's every request."""
    hooks = APP.before_request_funcs.get(rule.endpoint.rpartition(".")[0], [])
    view = APP.view_functions[rule.endpoint]
    return any(getattr(f, "coordinators_only", False) for f in (view, *hooks))


def _url(rule: Rule, **values: int) -> str:
    path = rule.rule
    for arg in rule.arguments:
        converter = rule._converters[arg]  # type: ignore[attr-defined]
        value = values.get(arg, 1 if isinstance(converter, IntegerConverter) else "x")
        for form in (f"<int:{arg}>", f"<string:{arg}>", f"<{arg}>", f"<path:{arg}>"):
            path = path.replace(form, str(value))
    return path


def _method(rule: Rule) -> str:
    methods = rule.methods or set()
    return "GET" if "GET" in methods else min(methods - {"OPTIONS", "HEAD"})


RULES = _rules()
PROTECTED = [
    r
    for r in RULES
    if not r.rule.startswith(PUBLIC_PREFIXES)
    and r.rule not in PUBLIC_PATHS
    and r.endpoint != "static"
]
COORDINATORS_ONLY = [r for r in PROTECTED if _coordinators_only(r)]
CASE_SCOPED = [r for r in PROTECTED if "case_id" in r.arguments and r not in COORDINATORS_ONLY]


def test_the_map_has_protected_and_case_urls() -> None:
    # Guards the tests below against passing vacuously on an empty list.
    assert len(PROTECTED) >= 5
    assert any(r.endpoint == "cases.show" for r in CASE_SCOPED)
    guarded = {r.endpoint for r in COORDINATORS_ONLY}
    assert {"admin.index", "cases.audit", "messages.index", "privacy.due", "referrals.index"} <= (
        guarded
    )


@pytest.mark.parametrize("rule", PROTECTED, ids=lambda r: f"{r.endpoint}")
def test_anonymous_visitor_is_sent_to_login(client, rule: Rule) -> None:
    method = _method(rule)
    response = client.open(_url(rule), method=method)
    assert response.status_code in (302, 303), (rule.rule, response.status_code)
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("rule", PROTECTED, ids=lambda r: f"{r.endpoint}")
def test_anonymous_htmx_request_redirects_the_whole_page(client, rule: Rule) -> None:
    response = client.open(_url(rule), method=_method(rule), headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


@pytest.mark.parametrize("rule", CASE_SCOPED, ids=lambda r: f"{r.endpoint}")
def test_another_mediators_case_is_not_found(client, mediator, other_mediator, rule: Rule) -> None:
    case = make_case(mediator)
    client.login(other_mediator)
    for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
        response = client.open(_url(rule, case_id=case.id), method=method)
        assert response.status_code == 404, (method, rule.rule, response.status_code)
        assert "Niet gevonden" in response.get_data(as_text=True)


@pytest.mark.parametrize("rule", COORDINATORS_ONLY, ids=lambda r: f"{r.endpoint}")
def test_a_mediator_is_refused_every_coordinator_page(client, mediator, rule: Rule) -> None:
    case = make_case(mediator)  # even on their own case
    client.login(mediator)
    for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
        response = client.open(_url(rule, case_id=case.id), method=method)
        assert response.status_code == 403, (method, rule.rule, response.status_code)
        page = response.get_data(as_text=True)
        assert "Deze pagina is voor de coördinatoren van het team." in page


def test_coordinator_opens_any_case(client, mediator, coordinator) -> None:
    case = make_case(mediator)
    client.login(coordinator)
    assert client.get(f"/cases/{case.id}").status_code == 200
