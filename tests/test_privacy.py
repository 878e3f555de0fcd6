"""Erasing a client's personal data on request: nothing written about the person survives
anywhere in the database, the anonymous figures keep counting, and only a coordinator can do it,
only once every case of the client is closed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import HTMX, POSTGRES_URL, in_db, make_case, make_client
from tests.test_activities import enrol, make_activity
from tests.test_links import create_client_link, create_provider_link, path_of
from tests.test_referrals import make_organisation
from webapp import models
from webapp.db import database
from webapp.models.privacy import apply_retention
from webapp.timeutil import utcnow

# Everything personal the case below holds; none of it may be left afterwards.
SECRETS = [
    "Zoubida",
    "Haddouchi",
    "0499 88 77 66",
    "zoubida@example.be",
    "Kielsevest 12",
    "1987-03-14",  # the birth date (the year stays)
    "drie kinderen, papa werkt 's nachts",
    "Zoekt zwemles voor haar dochter",
    "Sprak over de schulden bij de huisbaas",
    "Keukentafel thuis",
    "Bel Zoubida over het attest",
    "Attest OCMW aangevraagd",
    "Huur te hoog, geen geld voor clubgeld",
    "Via het fonds betaald",
    "Mijn dochter is ziek",
    "Kwam te laat maar deed goed mee",
    "Aan de zijdeur van de sporthal",
    "Verhuisd naar Gent",
    "Ze wil graag dansen",
]


@pytest.fixture
def closed_case(client, mediator):  # type: ignore[no-untyped-def]
    """A case that went all the way, with personal data in every corner, then closed."""
    person = make_client(
        first_name="Zoubida",
        last_name="Haddouchi",
        birth_date=dt.date(1987, 3, 14),
        phone="0499 88 77 66",
        email="zoubida@example.be",
        street="Kielsevest 12",
        postcode="2020",
        district="Kiel",
        household_note="drie kinderen, papa werkt 's nachts",
        card_type="uitpas",
        card_valid_until=dt.date(2027, 1, 31),
    )
    case = make_case(mediator, person, question="Zoekt zwemles voor haar dochter")
    with database.connection_context():
        visit = models.Visit.create(
            case=case,
            mediator=mediator,
            contact_type="huisbezoek",
            occurred_at=utcnow() - dt.timedelta(days=20),
            place="Keukentafel thuis",
            notes="Sprak over de schulden bij de huisbaas",
            idempotency_key="privacy-visit",
        )
        models.Task.create(
            case=case, text="Bel Zoubida over het attest", visit=visit, created_by=mediator
        )
        step = models.CaseStep.get(models.CaseStep.case == case.id)
        step.note = "Attest OCMW aangevraagd"
        step.save()
        models.CaseEvent.create(case=case, actor=mediator, kind="step_done", detail=step.note)
        models.CaseThreshold.create(
            case=case,
            category=models.ThresholdCategory.get(models.ThresholdCategory.key == "financieel"),
            note="Huur te hoog, geen geld voor clubgeld",
            status="resolved",
            resolution="Via het fonds betaald",
            signal=True,
        )
        organisation = make_organisation()
        models.Referral.create(
            organisation=organisation,
            reference="VB-PRIV-1",
            idempotency_key="privacy-referral",
            referrer_name="Lien Claes",
            first_name="Zoubida",
            last_name="Haddouchi",
            birth_date=dt.date(1987, 3, 14),
            phone="0499 88 77 66",
            district="Kiel",
            household="drie kinderen, papa werkt 's nachts",
            interests="Ze wil graag dansen",
            question="Zoekt zwemles voor haar dochter",
            status="accepted",
            client=person,
            case=case,
        )
    enrolment = enrol(case, make_activity(), mediator)
    with database.connection_context():
        session = models.Session.select().where(models.Session.enrolment == enrolment.id).first()
        session.meeting_point = "Aan de zijdeur van de sporthal"
        session.attendance_remark = "Kwam te laat maar deed goed mee"
        session.cant_come_message = "Mijn dochter is ziek"
        session.save()
        models.Enrolment.update(stop_note="Verhuisd naar Gent").where(
            models.Enrolment.id == enrolment.id
        ).execute()
    client.login(mediator)
    links = [
        path_of(create_client_link(client, case)),
        path_of(create_provider_link(client, case, enrolment)),
    ]
    with database.connection_context():
        models.Case.get_by_id(case.id).close("stopped", "verhuisd", "Verhuisd naar Gent", mediator)
    return {"case": case, "client": person, "links": links}


def everything_in_the_database() -> str:
    with database.connection_context():
        return "\n".join(
            " | ".join(str(value) for value in row)
            for m in models.ALL_MODELS
            for row in database.execute_sql(f'SELECT * FROM "{m._meta.table_name}"')  # noqa: S608
        )


def counts() -> dict[str, int]:
    """Rows per table; not the reports' queue of rows to count again, which any change fills."""
    with database.connection_context():
        return {
            m.__name__: m.select().count() for m in models.ALL_MODELS if m is not models.ReportDirty
        }


def test_erasing_leaves_nothing_personal_and_keeps_the_figures(
    app, client, coordinator, closed_case
) -> None:
    before = everything_in_the_database()
    assert all(secret in before for secret in SECRETS), [s for s in SECRETS if s not in before]
    case = closed_case["case"]
    client.login(coordinator)
    numbers = counts()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}/anonymise"' in page
    response = client.post(f"/cases/{case.id}/anonymise", data={"confirm": "y"})
    assert response.status_code == 303
    after = everything_in_the_database()
    assert [secret for secret in SECRETS if secret in after] == []
    # The records stay (the figures count them), only the links are gone; and one audit event.
    expected = {**numbers, "AccessLink": 0, "AuditEvent": counts()["AuditEvent"]}
    expected["ClosedClient"] = 0  # the erased client waits for no term any more
    assert counts() == expected
    person = in_db(lambda: models.Client.get_by_id(closed_case["client"].id))
    assert person.full_name == f"Anoniem {person.id}"
    assert (person.district, person.birth_date) == ("Kiel", dt.date(1987, 7, 1))
    threshold = in_db(lambda: models.CaseThreshold.get(models.CaseThreshold.case == case.id))
    assert (threshold.status, threshold.signal) == ("resolved", True)
    closed = in_db(lambda: models.Case.get_by_id(case.id))
    assert (closed.status, closed.outcome) == ("closed", "stopped")
    # The case page still opens, says what happened, and the links answer "gone".
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "De persoonsgegevens zijn gewist." in shown and "Anoniem" in shown
    for link in closed_case["links"]:
        assert app.test_client().get(link).status_code == 404
    assert client.get("/reports/").status_code == 200
    assert f'href="/cases/{case.id}/anonymise"' not in shown
    again = client.get(f"/cases/{case.id}/anonymise").get_data(as_text=True)
    assert "al gewist" in again and 'name="confirm"' not in again
    trail = client.get(f"/cases/{case.id}/audit").get_data(as_text=True)
    assert "Els Janssens" in trail and "wiste de persoonsgegevens" in trail


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads the SQLite file itself")
def test_after_the_nights_run_an_erased_person_is_not_in_the_file_either(
    client, coordinator, closed_case, database_url
) -> None:
    """Erased means unreadable with a hex editor too: rows rewritten by the erasure leave no
    old bytes in the file's free space, the search indexes are merged without them, and the
    write-ahead log is emptied (by the retention run of that night)."""
    path = Path(database_url.removeprefix("sqlite:///"))
    client.login(coordinator)
    assert (
        client.post(f"/cases/{closed_case['case'].id}/anonymise", data={"confirm": "y"}).status_code
        == 303
    )
    with database.connection_context():
        apply_retention()
    database.close()
    stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    left = [s for s in SECRETS if s.encode() in stored or s.lower().encode() in stored]
    assert left == []


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's FTS5 index")
def test_after_the_nights_run_the_search_index_holds_only_what_the_rows_hold(mediator) -> None:
    """FTS5 keeps an erased name's trigrams in its segments until they are merged: after the
    retention run the client index is the size of one built afresh from the rows."""

    def index_bytes() -> int:
        return database.execute_sql("SELECT SUM(LENGTH(block)) FROM client_search_data").fetchone()[
            0
        ]

    people = [
        make_client(first_name=f"Wiebke{i}", last_name=f"Quaquaversal-Oyelaran{i}")
        for i in range(20)
    ]
    with database.connection_context():
        for person in people:
            models.anonymise_client(person, None)
        erased = index_bytes()
        apply_retention()
        after = index_bytes()
        database.execute_sql("INSERT INTO client_search(client_search) VALUES ('rebuild')")
        afresh = index_bytes()
    assert erased > 3 * afresh  # the erased trigrams were all still there
    # The same bytes give or take the index's own bookkeeping (a few bytes of 2 300).
    assert abs(after - afresh) <= afresh / 100, (erased, after, afresh)


def test_only_when_every_case_of_the_client_is_closed(client, coordinator, mediator) -> None:
    case = make_case(mediator, make_client(first_name="Zoubida"))
    client.login(coordinator)
    assert "/anonymise" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    form = client.get(f"/cases/{case.id}/anonymise").get_data(as_text=True)
    assert "nog een open dossier" in form and 'name="confirm"' not in form
    response = client.post(f"/cases/{case.id}/anonymise", data={"confirm": "y"})
    assert response.status_code == 409
    assert in_db(lambda: models.Client.get_by_id(case.client_id).first_name) == "Zoubida"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_the_confirmation_is_required(client, coordinator, closed_case, headers) -> None:
    case = closed_case["case"]
    client.login(coordinator)
    response = client.post(f"/cases/{case.id}/anonymise", data={}, headers=headers)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="confirm-error"' in page and "Vink aan dat je het begrijpt." in page
    assert ("<html" in page) is (headers == {})
    assert in_db(lambda: models.Client.get_by_id(case.client_id).first_name) == "Zoubida"


def test_a_mediator_cannot_erase(client, mediator, closed_case) -> None:
    case = closed_case["case"]
    client.login(mediator)
    assert client.get(f"/cases/{case.id}/anonymise").status_code == 403
    assert client.post(f"/cases/{case.id}/anonymise", data={"confirm": "y"}).status_code == 403
    assert in_db(lambda: models.Client.get_by_id(case.client_id).first_name) == "Zoubida"
