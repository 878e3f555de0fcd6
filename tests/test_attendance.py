"""The provider's attendance page: minimal data, present / not present with a remark, the step
and timeline effects, the to-do after an absence, corrections, languages, CSRF."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import in_db, make_case
from tests.test_activities import enrol, event_kinds, make_activity, step_status, steps_done_before
from tests.test_links import create_provider_link, path_of
from tests.test_portal import anonymous
from webapp import models
from webapp.db import database
from webapp.timeutil import local_today, utcnow


@pytest.fixture
def provider_page(client, mediator):
    """A case at 'Inschrijving', a session that began half an hour ago and one next week, and
    the provider's attendance link (path)."""
    case = make_case(mediator, question="Privé: vader werkt 's nachts")
    steps_done_before(case, 6)
    started = utcnow() - dt.timedelta(minutes=30)
    enrolment = enrol(case, make_activity(), mediator, starts=[started, started + dt.timedelta(7)])
    sessions = in_db(lambda: sorted(s.id for s in enrolment.sessions))
    client.login(mediator)
    url = path_of(create_provider_link(client, case, enrolment))
    visitor = anonymous(client.application)
    page = visitor.get(url)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    return {
        "case": case,
        "url": url,
        "visitor": visitor,
        "csrf": token,
        "now": sessions[0],
        "later": sessions[1],
        "enrolment": enrolment,
    }


def confirm(p, session_id, attendance, remark="", lang="nl", csrf=True):
    data = {"attendance": attendance, "remark": remark}
    if csrf:
        data["csrf_token"] = p["csrf"]
    return p["visitor"].post(f"{p['url']}/sessions/{session_id}?lang={lang}", data=data, csrf=False)


def test_the_page_shows_only_what_the_provider_needs(provider_page) -> None:
    body = provider_page["visitor"].get(provider_page["url"]).get_data(as_text=True)
    assert "Voetbal U13" in body and "KFC Olympia Borgerhout" in body
    assert "Amina B." in body
    for private in ("Bouzid", "vader", "0486", "Borgerhout 2140", "El Amrani"):
        assert private not in body, private
    assert "Amina" not in re.search(r"<title>(.*?)</title>", body).group(1)
    assert body.count('value="present"') == 1  # only the session that began has buttons
    assert "Nog niet begonnen" in body


def test_presence_completes_the_first_time_step(provider_page) -> None:
    case = provider_page["case"]
    response = confirm(provider_page, provider_page["now"], "present", "kwam met de fiets")
    assert response.status_code == 303
    session = in_db(lambda: models.Session.get_by_id(provider_page["now"]))
    assert (session.attendance, session.confirmed_via, session.attendance_remark) == (
        "present",
        "provider",
        "kwam met de fiets",
    )
    assert step_status(case, "eerste_keer") == "done"
    assert in_db(lambda: models.Case.get_by_id(case.id).current_position) == 8
    assert "attendance_present" in event_kinds(case)
    after = provider_page["visitor"].get(response.headers["Location"]).get_data(as_text=True)
    assert "Bewaard: Amina was er." in after
    link = in_db(lambda: models.AccessLink.get(models.AccessLink.purpose == "provider"))
    assert link.last_used_at is not None
    audit = in_db(lambda: models.AuditEvent.get(models.AuditEvent.action == "attendance"))
    assert audit.link == link.id


def test_absence_gives_the_mediator_a_task(provider_page, mediator) -> None:
    case = provider_page["case"]
    assert confirm(provider_page, provider_page["now"], "absent").status_code == 303
    task = in_db(lambda: models.Task.get(models.Task.case == case.id))
    session = in_db(lambda: models.Session.get_by_id(provider_page["now"]))
    day = session.starts_at  # the label uses the Brussels day
    from webapp.timeutil import to_local

    local = to_local(day)
    assert task.text == f"Bel Amina: afwezig op {local.day}/{local.month}"
    assert task.due == local_today() and task.source == "attendance"
    assert task.created_by_id is None and task.done_at is None  # given by the provider's link
    # No contact is invented for it.
    assert in_db(lambda: models.Visit.select().where(models.Visit.case == case.id).count()) == 0
    assert "attendance_absent" in event_kinds(case)
    assert step_status(case, "eerste_keer") == "todo"


def test_the_provider_can_correct_and_repeating_changes_nothing(provider_page) -> None:
    case = provider_page["case"]
    confirm(provider_page, provider_page["now"], "absent")
    confirm(provider_page, provider_page["now"], "absent")
    assert event_kinds(case).count("attendance_absent") == 1
    assert in_db(lambda: models.Task.select().count()) == 1
    confirm(provider_page, provider_page["now"], "present")
    assert in_db(lambda: models.Session.get_by_id(provider_page["now"]).attendance) == "present"
    assert step_status(case, "eerste_keer") == "done"


def test_opening_the_page_twice_changes_nothing(provider_page) -> None:
    def counts():
        with database.connection_context():
            return [m.select().count() for m in models.ALL_MODELS] + [
                str(models.AccessLink.get(models.AccessLink.purpose == "provider").last_used_at)
            ]

    before = counts()
    for _ in range(2):
        assert provider_page["visitor"].get(provider_page["url"]).status_code == 200
    assert counts() == before


def test_a_session_that_has_not_begun_cannot_be_confirmed(provider_page) -> None:
    response = confirm(provider_page, provider_page["later"], "present")
    assert response.status_code == 422
    assert "nog niet begonnen" in response.get_data(as_text=True).lower()
    assert in_db(lambda: models.Session.get_by_id(provider_page["later"]).attendance) == ""


@pytest.mark.parametrize(
    ("attendance", "remark"), [("", ""), ("misschien", ""), ("present", "x" * 301)]
)
def test_bad_input_is_refused_with_a_message(provider_page, attendance, remark) -> None:
    response = confirm(provider_page, provider_page["now"], attendance, remark)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert in_db(lambda: models.Session.get_by_id(provider_page["now"]).attendance) == ""


def test_without_csrf_token_nothing_is_stored(provider_page) -> None:
    response = confirm(provider_page, provider_page["now"], "present", csrf=False)
    assert response.status_code == 400
    assert in_db(lambda: models.Session.get_by_id(provider_page["now"]).attendance) == ""


def test_a_session_of_another_enrolment_is_not_found(provider_page, mediator) -> None:
    other = enrol(
        make_case(mediator),
        make_activity(title="Zwemmen"),
        mediator,
        starts=[utcnow() - dt.timedelta(hours=1)],
    )
    other_session = in_db(lambda: other.sessions[0].id)
    assert confirm(provider_page, other_session, "present").status_code == 404


def test_stopping_the_enrolment_ends_the_link(provider_page, client) -> None:
    case, enrolment = provider_page["case"], provider_page["enrolment"]
    client.post(
        f"/activities/cases/{case.id}/enrolments/{enrolment.id}/stop", data={"reason": "cost"}
    )
    assert provider_page["visitor"].get(provider_page["url"]).status_code == 410


def test_languages_and_headers(provider_page) -> None:
    visitor = provider_page["visitor"]
    french = visitor.get(provider_page["url"] + "?lang=fr")
    body = french.get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in body and "Présent" in body and "Participant" in body
    english = visitor.get(provider_page["url"] + "?lang=en").get_data(as_text=True)
    assert "Present" in english and "Not present" in english
    arabic = visitor.get(provider_page["url"] + "?lang=ar").get_data(as_text=True)
    assert '<html lang="nl"' in arabic  # Arabic is for clients; providers get nl/en/fr
    assert 'hreflang="en"' in body and 'hreflang="ar"' not in body
    assert french.headers["Referrer-Policy"] == "no-referrer"
    assert french.headers["Cache-Control"] == "no-store"
    assert "noindex" in french.headers["X-Robots-Tag"]


def test_the_case_page_shows_the_confirmed_presence(provider_page, client) -> None:
    confirm(provider_page, provider_page["now"], "present")
    page = client.get(f"/cases/{provider_page['case'].id}").get_data(as_text=True)
    assert "(door aanbieder)" in page and "aanwezig" in page
