"""The provider's attendance page: minimal data, present / not present with a remark, the step
and timeline effects, the to-do after an absence, corrections, languages, CSRF."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import in_db, make_case
from tests.test_activities import enrol, event_kinds, make_activity, step_status, steps_done_before
from tests.test_links import URL_RE, create_provider_link, path_of
from tests.test_portal import anonymous
from webapp import models
from webapp.attendance import SESSIONS_ON_PAGE
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
    stopped = client.post(
        f"/activities/cases/{case.id}/enrolments/{enrolment.id}/stop", data={"reason": "cost"}
    )
    assert stopped.status_code == 303
    assert provider_page["visitor"].get(provider_page["url"]).status_code == 410
    # Revoked, not only refused while the enrolment stays stopped.
    assert in_db(lambda: models.AccessLink.current("provider").count()) == 0


def test_languages_and_headers(provider_page) -> None:
    visitor = provider_page["visitor"]
    french = visitor.get(provider_page["url"] + "?lang=fr")
    body = french.get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in body and "Présent" in body and "Amina B." in body
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
    assert "(bevestigd door KFC Olympia Borgerhout)" in page and "aanwezig" in page
    assert "bevestigd door KFC Olympia Borgerhout" in page.split('id="case-timeline"')[-1]
    assert "Aanwezigheidslink gemaakt" in page and "Persoonlijke link gemaakt" not in page


@pytest.fixture
def provider_week(client, mediator, other_mediator):
    """Three participants of two mediators at one provider today, one at another provider, and
    one week link made by Sara for her provider."""
    from tests.conftest import make_client
    from tests.test_activities import make_provider

    pool = make_provider(name="Zwembad Wezenberg")
    swimming = make_activity(provider=pool, title="Zwemles")
    started = utcnow() - dt.timedelta(minutes=30)
    cases = {
        "Amina": make_case(mediator),
        "Youssef": make_case(mediator, make_client(first_name="Youssef", last_name="Haddou")),
        "Oksana": make_case(other_mediator, make_client(first_name="Oksana", last_name="Koval")),
    }
    sessions = {}
    for name, case in cases.items():
        steps_done_before(case, 6)
        enrolment = enrol(case, swimming, case.mediator, starts=[started])
        sessions[name] = in_db(lambda e=enrolment: e.sessions[0].id)
    elsewhere = make_case(other_mediator, make_client(first_name="Elsewhere", last_name="X"))
    football = enrol(elsewhere, make_activity(), other_mediator, starts=[started])
    sessions["elsewhere"] = in_db(lambda: football.sessions[0].id)
    client.login(mediator)
    first = in_db(lambda: models.Enrolment.get(models.Enrolment.case == cases["Amina"].id))
    response = client.post(
        f"/activities/cases/{cases['Amina'].id}/enrolments/{first.id}/provider-week-link"
    )
    assert response.status_code == 200
    url = path_of(URL_RE.search(response.get_data(as_text=True)).group(1))
    visitor = anonymous(client.application)
    page = visitor.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return {"url": url, "visitor": visitor, "csrf": token, "cases": cases, "sessions": sessions}


def test_one_link_covers_all_participants_at_the_provider(provider_week) -> None:
    p = provider_week
    body = p["visitor"].get(p["url"]).get_data(as_text=True)
    for who in ("Amina B.", "Youssef H.", "Oksana K."):
        assert who in body, who
    assert "Elsewhere" not in body and "Koval" not in body and "Haddou" not in body
    assert body.count('value="present"') == 3
    # Who asks and whom to call.
    assert "Sara van Team vrije tijd (OCMW) vraagt" in body and 'href="tel:0470123456"' in body
    assert "Vragen over Oksana? Bel Tom." in body  # another mediator's participant


def test_each_attendance_lands_on_its_own_case(provider_week) -> None:
    p = provider_week
    for name in ("Amina", "Oksana"):
        response = confirm(p, p["sessions"][name], "present")
        assert response.status_code == 303
    confirm(p, p["sessions"]["Youssef"], "absent")
    for name, expected in (("Amina", "present"), ("Oksana", "present"), ("Youssef", "absent")):
        session = in_db(lambda n=name: models.Session.get_by_id(p["sessions"][n]))
        assert session.attendance == expected and session.confirmed_via == "provider"
    assert step_status(p["cases"]["Amina"], "eerste_keer") == "done"
    assert step_status(p["cases"]["Oksana"], "eerste_keer") == "done"
    assert step_status(p["cases"]["Youssef"], "eerste_keer") == "todo"
    event = in_db(
        lambda: models.CaseEvent.get(
            models.CaseEvent.case == p["cases"]["Oksana"].id,
            models.CaseEvent.kind == "attendance_present",
        )
    )
    assert event.outside_actor == "Zwembad Wezenberg" and event.actor_id is None
    assert "attendance_present" not in event_kinds(p["cases"]["Youssef"])
    # A session of another provider is not on this link.
    assert confirm(p, p["sessions"]["elsewhere"], "present").status_code == 404
    assert in_db(lambda: models.Session.get_by_id(p["sessions"]["elsewhere"]).attendance) == ""


def test_the_week_link_is_logged_as_a_provider_link_and_get_changes_nothing(
    provider_week, client
) -> None:
    p = provider_week
    assert "provider_link_created" in event_kinds(p["cases"]["Amina"])
    assert "link_created" not in event_kinds(p["cases"]["Amina"])
    link = in_db(lambda: models.AccessLink.get(models.AccessLink.provider.is_null(False)))
    assert link.period_start <= utcnow() < link.period_end and link.last_used_at is None
    before = in_db(lambda: [tuple(r) for r in database.execute_sql("SELECT * FROM access_link")])
    p["visitor"].get(p["url"])
    after = in_db(lambda: [tuple(r) for r in database.execute_sql("SELECT * FROM access_link")])
    assert before == after
    page = client.get(f"/cases/{p['cases']['Amina'].id}").get_data(as_text=True)
    assert "Eén link voor al onze deelnemers bij Zwembad Wezenberg" in page


def test_the_week_link_shows_on_the_case_and_stops_when_revoked(
    provider_week, client, other_mediator
) -> None:
    """Sent to the wrong address, the week link (every participant at the provider) can be
    stopped from any of the maker's cases there; another mediator's cases don't show it."""
    p = provider_week
    youssef = p["cases"]["Youssef"]
    page = client.get(f"/cases/{youssef.id}").get_data(as_text=True)
    assert "Jouw link voor al onze deelnemers bij Zwembad Wezenberg werkt tot" in page
    assert "Link aanbieder intrekken" in page  # Youssef's enrolment has no link of its own
    tom = client.application.test_client()  # Oksana's mediator: Sara's link is not his
    tom.login(other_mediator)
    oksana = tom.get(f"/cases/{p['cases']['Oksana'].id}").get_data(as_text=True)
    assert "Jouw link voor al onze deelnemers" not in oksana
    enrolment = in_db(lambda: models.Enrolment.get(models.Enrolment.case == youssef.id))
    revoked = client.post(
        f"/activities/cases/{youssef.id}/enrolments/{enrolment.id}/provider-link/revoke"
    )
    assert revoked.status_code in (200, 303)
    assert p["visitor"].get(p["url"]).status_code == 410
    page = client.get(f"/cases/{youssef.id}").get_data(as_text=True)
    assert "Jouw link voor al onze deelnemers" not in page
    assert "Link aanbieder intrekken" not in page
    assert "link_revoked" in event_kinds(youssef)


def test_a_busy_week_shows_twenty_at_a_time_and_each_can_be_confirmed(provider_week) -> None:
    """A provider with many of our participants: the first 20 sessions, "Meer tonen" for
    the rest (none is dropped), and a confirmation brings the provider back to the same
    pages, at the participant just confirmed."""
    from tests.conftest import make_client

    p = provider_week
    swimming = in_db(lambda: models.Session.get_by_id(p["sessions"]["Amina"]).enrolment.activity)
    started = utcnow() - dt.timedelta(minutes=20)
    for i in range(SESSIONS_ON_PAGE):
        case = make_case(p["cases"]["Amina"].mediator, make_client(first_name=f"Zara{i:02d}"))
        enrol(case, swimming, case.mediator, starts=[started])
    first = p["visitor"].get(p["url"]).get_data(as_text=True)
    assert first.count('value="present"') == SESSIONS_ON_PAGE
    more = re.search(r'href="([^"]*page=2[^"]*)"', first)
    assert more and "Meer tonen" in first
    everyone = p["visitor"].get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert everyone.count('value="present"') == SESSIONS_ON_PAGE + 3
    assert "page=3" not in everyone
    last = re.findall(r'action="([^"]+/sessions/(\d+)[^"]*)"', everyone)[-1]
    assert "page=2" in last[0]
    response = p["visitor"].post(
        last[0].replace("&amp;", "&"),
        data={"attendance": "present", "remark": "", "csrf_token": p["csrf"]},
        csrf=False,
    )
    assert response.status_code == 303
    assert "page=2" in response.location and response.location.endswith(f"#session-{last[1]}")
    assert in_db(lambda: models.Session.get_by_id(int(last[1])).attendance) == "present"
