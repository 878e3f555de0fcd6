"""The audit trail of a case, for coordinators: who viewed or changed the case, its client and
what hangs from it, and which link a client or provider used."""

from __future__ import annotations

import re

import pytest

from tests.conftest import HTMX, count_queries, in_db, make_case, make_client
from tests.test_cases import add_visit, new_case_data
from tests.test_portal import anonymous, portal  # noqa: F401 (a fixture)
from tests.test_visits import visit_data
from webapp import models
from webapp.cases import AUDIT_PAGE_SIZE
from webapp.db import database


def trail(client, case, **headers: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/cases/{case.id}/audit", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def entries(page: str) -> list[str]:
    """Each entry as one line of text: who, what, when."""
    items = re.findall(r'<li class="item"[^>]*>(.*?)</li>', page, re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def test_only_coordinators_see_the_trail(client, mediator, coordinator, case) -> None:
    client.login(mediator)
    # Not even the mediator of the case: the trail tells about colleagues too.
    assert client.get(f"/cases/{case.id}/audit").status_code == 403
    assert "/audit" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    client.login(coordinator)
    assert f'href="/cases/{case.id}/audit"' in client.get(f"/cases/{case.id}").get_data(
        as_text=True
    )
    assert client.get("/cases/9999/audit").status_code == 404


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_trail_shows_who_did_what_newest_first(
    client, mediator, other_mediator, coordinator, headers
) -> None:
    elsewhere = make_case(other_mediator, make_client(first_name="Jonas", last_name="Peeters"))
    client.login(mediator)
    opened = client.post("/cases/new", data=new_case_data())
    case = in_db(lambda: models.Case.select().order_by(models.Case.id.desc()).first())
    assert opened.headers["Location"] == f"/cases/{case.id}"
    client.get(f"/cases/{case.id}")
    assert client.post(f"/cases/{case.id}/visits", data=visit_data()).status_code == 303
    client.login(other_mediator)
    client.get(f"/cases/{elsewhere.id}")
    client.login(coordinator)
    page = trail(client, case, **headers)
    lines = entries(page)
    assert ("<html" in page) is (headers == {})
    assert lines[0].startswith("Sara El Amrani registreerde een contact")
    assert lines[1].startswith("Sara El Amrani bekeek het dossier")
    assert lines[-2].startswith("Sara El Amrani opende het dossier")
    assert lines[-1].startswith("Sara El Amrani maakte de cliënt aan")
    # Another case's events are not in this trail; looking at the trail is itself recorded.
    assert not any("Tom Peeters" in line for line in lines)
    assert "Els Janssens bekeek wie in het dossier keek" in entries(trail(client, case))[0]


def test_a_link_used_by_the_client_shows_as_the_client(app, client, coordinator, portal) -> None:  # noqa: F811
    visitor = anonymous(app)
    page = visitor.get(portal["url"]).get_data(as_text=True)
    session_id = re.search(r'name="session" value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    visitor.post(
        portal["url"] + "/cant-come",
        data={"csrf_token": token, "session": session_id},
        csrf=False,
    )
    client.login(coordinator)
    lines = entries(trail(client, portal["case"]))
    assert lines[0].startswith("de cliënt, via de persoonlijke link meldde: kan niet komen")
    assert lines[1].startswith("Sara El Amrani maakte een link")


def shown_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="audit-(\d+)"', page)]


def test_a_long_trail_pages_with_constant_queries(client, mediator, coordinator, case) -> None:
    client.login(coordinator)
    with count_queries() as few:
        trail(client, case)
    with database.connection_context():
        models.AuditEvent.insert_many(
            [
                {"user": mediator.id, "action": "view", "object_type": "case", "object_id": case.id}
                for _ in range(AUDIT_PAGE_SIZE + 10)
            ]
        ).execute()
    add_visit(case, 3)
    everything = in_db(lambda: [e.id for e in models.AuditEvent.for_case(case)])
    with count_queries() as many:
        page = trail(client, case)
    assert len(many) == len(few)
    first = shown_ids(page)
    assert first == everything[:AUDIT_PAGE_SIZE]
    assert "Meer laden" in page
    # Looking at page 1 added an event on top; page 2 still goes on exactly where page 1 ended.
    more = re.search(r'hx-get="([^"]+)"', page.split('class="load-more"')[1]).group(1)
    rest = client.get(more.replace("&amp;", "&"), headers=HTMX).get_data(as_text=True)
    assert "<html" not in rest
    assert first + shown_ids(rest) == everything
    assert "Meer laden" not in rest
