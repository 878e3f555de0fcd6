"""An access request (GDPR art. 15): a coordinator exports everything kept about one client, as
a printable page and as JSON; nothing about anyone else, no token; audited."""

from __future__ import annotations

import json

import pytest

from tests.conftest import in_db, make_case, make_client
from tests.test_privacy import SECRETS, closed_case
from webapp import models
from webapp.db import database
from webapp.timeutil import utcnow

__all__ = ["closed_case"]

# The similar client's own data: none of it may appear in the first client's export.
OTHER = ["Zoubeida", "Haddou-Other", "0499 11 22 33", "Notitie over de andere cliënt"]


@pytest.fixture
def two_clients(closed_case, mediator):  # type: ignore[no-untyped-def]
    other = make_case(
        mediator,
        make_client(first_name="Zoubeida", last_name="Haddou-Other", phone="0499 11 22 33"),
        question="Zoekt zwemles voor haar zoon",
    )
    with database.connection_context():
        models.Visit.create(
            case=other,
            mediator=mediator,
            contact_type="huisbezoek",
            occurred_at=utcnow(),
            notes="Notitie over de andere cliënt",
            idempotency_key="export-other",
        )
    return closed_case


def test_the_json_holds_every_row_about_the_client_and_none_about_others(
    client, coordinator, two_clients
) -> None:
    client.login(coordinator)
    person = two_clients["client"]
    response = client.get(f"/privacy/clients/{person.id}/inzage?as=json")
    assert response.status_code == 200
    data = json.loads(response.get_data(as_text=True))
    text = json.dumps(data, ensure_ascii=False)
    assert [s for s in SECRETS if s not in text] == []
    assert [s for s in OTHER if s in text] == []
    assert "token" not in text and "search_text" not in text
    case_ids = {two_clients["case"].id}
    with database.connection_context():
        assert {c["id"] for c in data["cases"]} == case_ids
        assert (
            len(data["visits"])
            == models.Visit.select().where(models.Visit.case.in_(case_ids)).count()
        )
        assert (
            len(data["steps"])
            == models.CaseStep.select().where(models.CaseStep.case.in_(case_ids)).count()
        )
        assert len(data["links"]) == 2 and len(data["sessions"]) >= 1
        assert len(data["referrals"]) == 1 and len(data["thresholds"]) == 1
    assert any(e["who"] == "Sara El Amrani" for e in data["audit"])
    trail = client.get(f"/cases/{two_clients['case'].id}/audit").get_data(as_text=True)
    assert "maakte een overzicht van alle gegevens" in trail


def test_the_printable_page(client, coordinator, two_clients) -> None:
    client.login(coordinator)
    person = two_clients["client"]
    page = client.get(f"/privacy/clients/{person.id}/inzage").get_data(as_text=True)
    assert "Alle gegevens die Vrijbaan bewaart over Zoubida Haddouchi" in page
    assert "Sprak over de schulden bij de huisbaas" in page
    assert [s for s in OTHER if s in page] == []
    assert "?as=json" in page
    audit = client.get(f"/cases/{two_clients['case'].id}/audit").get_data(as_text=True)
    assert f"/privacy/clients/{person.id}/inzage" in audit


def test_only_a_coordinator_and_only_existing_clients(client, mediator, coordinator, two_clients):  # type: ignore[no-untyped-def]
    person = two_clients["client"]
    client.login(mediator)
    assert client.get(f"/privacy/clients/{person.id}/inzage").status_code == 403
    client.login(coordinator)
    assert client.get("/privacy/clients/999999/inzage").status_code == 404
    assert (
        in_db(
            lambda: models.AuditEvent.select().where(models.AuditEvent.action == "export").count()
        )
        == 0
    )


def test_a_correction_of_the_client_is_audited_with_field_names_only(
    client, mediator, coordinator, case
) -> None:
    from tests.test_cases import client_data

    client.login(mediator)
    assert client.post(f"/cases/{case.id}/client", data=client_data()).status_code == 303
    event = in_db(
        lambda: models.AuditEvent.get(
            models.AuditEvent.action == "update", models.AuditEvent.object_type == "client"
        )
    )
    assert "street" in event.fields.split(",") and "Turnhoutsebaan" not in event.fields
    client.login(coordinator)
    trail = client.get(f"/cases/{case.id}/audit").get_data(as_text=True)
    assert "wijzigde de gegevens van de cliënt (" in trail and "straat" in trail
    assert "Turnhoutsebaan" not in trail
