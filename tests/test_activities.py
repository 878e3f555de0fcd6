"""The offer: providers and activities (list, search, create, edit, archive), enrolment from a
case, attendance recorded by the mediator, stopping an enrolment, the case page and Vandaag."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.conftest import HTMX, count_queries, in_db, make_case, make_client
from webapp import models
from webapp.cases.sections import case_offer_context
from webapp.db import database
from webapp.timeutil import local_today, to_local, to_utc, utcnow
from webapp.today import today_offer_context


def make_provider(**fields: Any) -> models.Provider:
    values = {"name": "KFC Olympia Borgerhout", "kind": "voetbalclub", "district": "Borgerhout"}
    values.update(fields)
    with database.connection_context():
        return models.Provider.create(**values)


def make_activity(provider: models.Provider | None = None, **fields: Any) -> models.Activity:
    values: dict[str, Any] = {
        "provider": provider or make_provider(),
        "title": "Voetbal U13",
        "domain": "sport",
        "age_min": 11,
        "age_max": 13,
        "street": "Te Boelaerlei 20",
        "postcode": "2140",
        "district": "Borgerhout",
        "schedule": "woensdag 14–15.30 uur",
        "price_full_cents": 18500,
        "price_reduced_cents": 3700,
        "what_to_bring": "sportschoenen, drinkbus",
    }
    values.update(fields)
    with database.connection_context():
        return models.Activity.create(**values)


def enrol(
    case: models.Case,
    activity: models.Activity,
    by: models.User,
    starts: list[dt.datetime] | None = None,
    go_along: bool = True,
) -> models.Enrolment:
    """Enrol through the model (the view is tested separately)."""
    if starts is None:
        first = dt.datetime.combine(local_today() + dt.timedelta(days=3), dt.time(10, 0))
        starts = [to_utc(first), to_utc(first + dt.timedelta(days=7))]
    with database.connection_context():
        case = models.Case.get_by_id(case.id)
        return models.Enrolment.enrol(
            case,
            activity,
            by,
            cost_arrangement="reduced",
            starts=starts,
            duration=dt.timedelta(minutes=90),
            meeting_point="aan de ingang",
            go_along=go_along,
        )


def step_status(case: models.Case, key: str) -> str:
    return in_db(
        lambda: (
            models.CaseStep.select()
            .join(models.StepDefinition)
            .where(models.CaseStep.case == case.id, models.StepDefinition.key == key)
            .get()
            .status
        )
    )


def event_kinds(case: models.Case) -> list[str]:
    return in_db(
        lambda: [e.kind for e in models.CaseEvent.select().where(models.CaseEvent.case == case.id)]
    )


# --- The list of the offer -------------------------------------------------------------------


def test_list_searches_and_filters(client, mediator) -> None:
    provider = make_provider(name="Stedelijk zwembad Wezenberg", kind="zwembad")
    make_activity(
        provider, title="Zwemles voor beginners", age_min=6, age_max=12, district="Berchem"
    )
    make_activity(title="Voetbal U13")
    make_activity(title="Muziekatelier", domain="cultuur", price_reduced_cents=None, age_min=8)
    make_activity(title="Oud aanbod", archived=True)
    client.login(mediator)

    page = client.get("/activities/").get_data(as_text=True)
    assert "Zwemles voor beginners" in page and "Voetbal U13" in page
    assert "Oud aanbod" not in page

    found = client.get("/activities/?q=wezenberg").get_data(as_text=True)
    assert "Zwemles voor beginners" in found and "Voetbal U13" not in found

    cultuur = client.get("/activities/?domain=cultuur").get_data(as_text=True)
    assert "Muziekatelier" in cultuur and "Zwemles" not in cultuur

    age7 = client.get("/activities/?age=7").get_data(as_text=True)
    assert "Zwemles" in age7 and "Voetbal U13" not in age7 and "Muziekatelier" not in age7

    berchem = client.get("/activities/?district=Berchem").get_data(as_text=True)
    assert "Zwemles" in berchem and "Voetbal" not in berchem

    reduced = client.get("/activities/?reduced=y").get_data(as_text=True)
    assert "Muziekatelier" not in reduced and "Voetbal U13" in reduced

    cheap = client.get("/activities/?max_price=30").get_data(as_text=True)
    assert "Voetbal U13" not in cheap  # € 37 with kansentarief


def test_list_answers_a_fragment_to_htmx(client, mediator) -> None:
    make_activity(title="Voetbal U13")
    client.login(mediator)
    response = client.get("/activities/?q=voetbal", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="activity-results">')
    assert "<html" not in body and "Voetbal U13" in body
    assert "HX-Request" in response.headers["Vary"]


def test_bad_filter_input_does_not_break_the_list(client, mediator) -> None:
    make_activity(title="Voetbal U13")
    client.login(mediator)
    response = client.get("/activities/?age=oud&max_price=veel&domain=hacker&page=-3")
    assert response.status_code == 200
    assert "Voetbal U13" in response.get_data(as_text=True)


def test_load_more_pages_with_a_constant_number_of_queries(client, mediator) -> None:
    provider = make_provider()
    with database.connection_context():
        models.Activity.insert_many(
            [
                {"provider": provider.id, "title": f"Activiteit {i:03d}", "domain": "sport"}
                for i in range(45)
            ]
        ).execute()
    client.login(mediator)
    first = client.get("/activities/").get_data(as_text=True)
    assert "Activiteit 019" in first and "Activiteit 020" not in first
    assert "page=2" in first
    more = client.get("/activities/?page=2", headers=HTMX).get_data(as_text=True)
    assert "Activiteit 020" in more and "Activiteit 019" not in more and "page=3" in more
    assert "<ul" not in more  # only rows, appended in place of the button
    plain = client.get("/activities/?page=2").get_data(as_text=True)
    assert "Activiteit 000" in plain and "Activiteit 039" in plain  # no-JS: pages 1..2

    with count_queries() as few:
        client.get("/activities/")
    with database.connection_context():
        models.Activity.insert_many(
            [{"provider": provider.id, "title": f"Meer {i}", "domain": "jeugd"} for i in range(500)]
        ).execute()
    with count_queries() as many:
        client.get("/activities/")
    assert len(few) == len(many)


# --- Providers and activities ---------------------------------------------------------------


def test_create_provider_then_activity(client, mediator) -> None:
    client.login(mediator)
    response = client.post(
        "/activities/providers",
        data={
            "name": "Muziekacademie Deurne",
            "kind": "academie",
            "email": "Info@Academie.example",
            "postcode": "2100",
            "district": "Deurne",
            "version": "1",
        },
    )
    assert response.status_code == 303
    provider = in_db(lambda: models.Provider.get(models.Provider.name == "Muziekacademie Deurne"))
    assert provider.email == "info@academie.example"
    assert f"provider={provider.id}" in response.headers["Location"]

    response = client.post(
        "/activities/",
        data={
            "provider": str(provider.id),
            "title": "Notenleer en piano",
            "domain": "cultuur",
            "age_min": "8",
            "age_max": "14",
            "price_full": "96",
            "price_reduced": "19,20",
            "district": "Deurne",
            "version": "1",
        },
    )
    assert response.status_code == 303
    activity = in_db(lambda: models.Activity.get(models.Activity.title == "Notenleer en piano"))
    assert (activity.price_full_cents, activity.price_reduced_cents) == (9600, 1920)
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "€ 19,20" in page and "Muziekacademie Deurne" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Vul de titel in."),
        ("price_full", "gratis", "Typ een bedrag in euro"),
        ("price_reduced", "500", "hoger dan de volle prijs"),
        ("age_max", "3", "kleiner dan de laagste"),
        ("domain", "", "Kies sport, cultuur of jeugd."),
        ("provider", "999", "Kies een aanbieder."),
        ("postcode", "21", "Een postcode heeft 4 cijfers."),
    ],
)
def test_activity_form_shows_errors_and_keeps_input(
    client, mediator, field, value, message
) -> None:
    provider = make_provider()
    client.login(mediator)
    data = {
        "provider": str(provider.id),
        "title": "Zwemmen",
        "domain": "sport",
        "age_min": "6",
        "age_max": "12",
        "price_full": "50",
        "price_reduced": "10",
        "postcode": "2140",
        "schedule": "zaterdag 10 uur",
        "version": "1",
    }
    data[field] = value
    response = client.post("/activities/", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert 'value="zaterdag 10 uur"' in body  # what was typed stays
    assert 'class="error"' in body  # next to the field
    assert in_db(lambda: models.Activity.select().count()) == 0
    fragment = client.post("/activities/", data=data, headers=HTMX)
    assert fragment.status_code == 422 and message in fragment.get_data(as_text=True)


def test_provider_form_errors(client, mediator) -> None:
    client.login(mediator)
    response = client.post(
        "/activities/providers", data={"name": "", "email": "geen-adres", "phone": "abc"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul de naam in." in body and "Dit is geen e-mailadres." in body
    assert 'value="geen-adres"' in body


def test_stale_edit_is_refused_with_a_way_forward(client, mediator, coordinator) -> None:
    activity = make_activity()
    client.login(mediator)
    data = {
        "provider": str(activity.provider_id),
        "title": "Voetbal U14",
        "domain": "sport",
        "price_full": "185",
        "version": "1",
    }
    assert client.post(f"/activities/{activity.id}", data=data).status_code == 303
    data["title"] = "Voetbal U15"  # a second edit from the same (now old) version
    response = client.post(f"/activities/{activity.id}", data=data)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Iemand anders" in body and 'value="Voetbal U15"' in body
    assert in_db(lambda: models.Activity.get_by_id(activity.id).title) == "Voetbal U14"


def test_archive_takes_an_activity_out_of_the_list(client, coordinator) -> None:
    activity = make_activity(title="Petanque")
    client.login(coordinator)
    assert client.post(f"/activities/{activity.id}/archive").status_code == 303
    assert "Petanque" not in client.get("/activities/").get_data(as_text=True)
    client.post(f"/activities/{activity.id}/archive")
    assert "Petanque" in client.get("/activities/").get_data(as_text=True)


def test_archiving_a_provider_archives_its_activities(client, coordinator) -> None:
    activity = make_activity(title="Petanque")
    client.login(coordinator)
    client.post(f"/activities/providers/{activity.provider_id}/archive")
    assert in_db(lambda: models.Activity.get_by_id(activity.id).archived)
    assert "gearchiveerd" in client.get("/activities/providers").get_data(as_text=True)


def test_unknown_activity_or_provider_is_not_found(client, mediator) -> None:
    client.login(mediator)
    assert client.get("/activities/999").status_code == 404
    assert client.get("/activities/999/edit").status_code == 404
    assert client.get("/activities/providers/999/edit").status_code == 404
    assert client.post("/activities/providers/999/archive").status_code == 404


def test_posts_without_csrf_token_are_refused(client, mediator) -> None:
    client.login(mediator)
    response = client.post("/activities/providers", data={"name": "X"}, csrf=False)
    assert response.status_code == 400
    assert in_db(lambda: models.Provider.select().count()) == 0


# --- Enrolment from a case ------------------------------------------------------------------


def enrol_data(**overrides: str) -> dict[str, str]:
    day = local_today() + dt.timedelta(days=4)
    data = {
        "cost_arrangement": "reduced",
        "first_date": day.isoformat(),
        "first_time": "10:00",
        "duration_minutes": "90",
        "meeting_point": "aan de ingang van de kantine",
        "go_along": "y",
        "weekly": "3",
    }
    data.update(overrides)
    return data


def test_enrolment_from_the_case(client, mediator, case) -> None:
    activity = make_activity(age_min=None, age_max=None)  # fits the client, whatever her age
    client.login(mediator)
    choose = client.get(f"/activities/cases/{case.id}/choose").get_data(as_text=True)
    assert f"/activities/cases/{case.id}/enrol/{activity.id}" in choose
    form = client.get(f"/activities/cases/{case.id}/enrol/{activity.id}")
    assert form.status_code == 200 and "Amina inschrijven" in form.get_data(as_text=True)

    response = client.post(f"/activities/cases/{case.id}/enrol/{activity.id}", data=enrol_data())
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{case.id}#case-offer")
    enrolment = in_db(lambda: models.Enrolment.get(models.Enrolment.case == case.id))
    sessions = in_db(
        lambda: list(
            models.Session.select()
            .where(models.Session.enrolment == enrolment)
            .order_by(models.Session.starts_at)
        )
    )
    assert len(sessions) == 4
    first = to_local(sessions[0].starts_at)
    assert (first.date(), first.hour, first.minute) == (
        local_today() + dt.timedelta(days=4),
        10,
        0,
    )
    assert all(to_local(s.starts_at).hour == 10 for s in sessions)  # also across a DST change
    assert sessions[0].companion_id == mediator.id and sessions[1].companion_id is None
    assert step_status(case, "inschrijving") == "done"
    assert "enrolled" in event_kinds(case)

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Voetbal U13" in page and "kansentarief / UiTPAS: € 37" in page
    assert "aan de ingang van de kantine" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cost_arrangement", "", "Kies hoe de kosten geregeld zijn."),
        ("cost_arrangement", "lening", "Ongeldige keuze."),
        ("first_date", "", "Kies de datum van de eerste keer."),
        ("first_date", "2001-01-01", "Deze datum is al voorbij."),
        ("first_date", "morgen", "Ongeldige datum."),
        ("first_time", "", "Kies het uur."),
        ("duration_minutes", "5", "Tussen 15 en 600 minuten."),
        ("weekly", "99", "Tussen 0 en 20 keer."),
        ("meeting_point", "x" * 201, "Maximaal 200 tekens."),
    ],
)
def test_enrol_form_shows_errors_and_keeps_input(
    client, mediator, case, field, value, message
) -> None:
    activity = make_activity()
    client.login(mediator)
    url = f"/activities/cases/{case.id}/enrol/{activity.id}"
    response = client.post(url, data=enrol_data(**{field: value}))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    if field != "meeting_point":
        assert 'value="aan de ingang van de kantine"' in body
    assert in_db(lambda: models.Enrolment.select().count()) == 0
    assert step_status(case, "inschrijving") == "todo"


def test_reduced_rate_is_not_offered_when_the_activity_has_none(client, mediator, case) -> None:
    activity = make_activity(price_reduced_cents=None)
    client.login(mediator)
    form = client.get(f"/activities/cases/{case.id}/enrol/{activity.id}").get_data(as_text=True)
    assert 'value="reduced"' not in form
    response = client.post(f"/activities/cases/{case.id}/enrol/{activity.id}", data=enrol_data())
    assert response.status_code == 422


def test_enrolling_twice_in_the_same_activity_is_refused(client, mediator, case) -> None:
    activity = make_activity()
    enrol(case, activity, mediator)
    client.login(mediator)
    response = client.post(f"/activities/cases/{case.id}/enrol/{activity.id}", data=enrol_data())
    assert response.status_code == 422
    assert "al ingeschreven" in response.get_data(as_text=True)


def test_enrolment_on_a_closed_case_is_refused(client, mediator, case) -> None:
    activity = make_activity()
    with database.connection_context():
        models.Case.update(status="closed").where(models.Case.id == case.id).execute()
    client.login(mediator)
    response = client.post(f"/activities/cases/{case.id}/enrol/{activity.id}", data=enrol_data())
    assert response.status_code == 409
    assert in_db(lambda: models.Enrolment.select().count()) == 0


def test_another_mediator_cannot_enrol_or_see(client, mediator, other_mediator, case) -> None:
    activity = make_activity()
    enrolment = enrol(case, activity, mediator)
    session_id = in_db(lambda: enrolment.sessions[0].id)
    client.login(other_mediator)
    assert client.get(f"/activities/cases/{case.id}/choose").status_code == 404
    assert client.get(f"/activities/cases/{case.id}/enrol/{activity.id}").status_code == 404
    assert client.post(f"/activities/cases/{case.id}/enrol/{activity.id}").status_code == 404
    assert (
        client.post(f"/activities/cases/{case.id}/sessions/{session_id}/attendance").status_code
        == 404
    )
    assert client.post(f"/activities/cases/{case.id}/client-link").status_code == 404


def test_a_session_of_another_case_is_not_found(client, mediator, case) -> None:
    other_case = make_case(mediator, make_client(first_name="Youssef"))
    enrolment = enrol(other_case, make_activity(), mediator)
    session_id = in_db(lambda: enrolment.sessions[0].id)
    client.login(mediator)
    url = f"/activities/cases/{case.id}/sessions/{session_id}/attendance"
    assert client.post(url, data={"attendance": "present"}).status_code == 404
    url = f"/activities/cases/{case.id}/enrolments/{enrolment.id}/stop"
    assert client.get(url).status_code == 404


# --- Attendance by the mediator, stopping ---------------------------------------------------


def started_enrolment(case: models.Case, mediator: models.User) -> models.Enrolment:
    started = utcnow() - dt.timedelta(minutes=30)
    return enrol(case, make_activity(), mediator, starts=[started, started + dt.timedelta(days=7)])


def steps_done_before(case: models.Case, position: int) -> None:
    """Mark the steps before `position` done, as if the mediator got that far."""
    with database.connection_context():
        ids = [
            d.id
            for d in models.StepDefinition.select().where(models.StepDefinition.position < position)
        ]
        models.CaseStep.update(status="done").where(
            models.CaseStep.case == case.id, models.CaseStep.step.in_(ids)
        ).execute()
        models.Case.get_by_id(case.id).refresh_position()


def test_mediator_records_presence_as_fragment(client, mediator, case) -> None:
    steps_done_before(case, 6)
    enrolment = started_enrolment(case, mediator)
    assert in_db(lambda: models.Case.get_by_id(case.id).current_position) == 7
    session_id = in_db(lambda: min(s.id for s in enrolment.sessions))
    client.login(mediator)
    url = f"/activities/cases/{case.id}/sessions/{session_id}/attendance"
    response = client.post(url, data={"attendance": "present", "remark": ""}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    # Only this enrolment's card: a share panel elsewhere on the page stays.
    assert body.startswith(f'<article class="card enrolment" id="enrolment-{enrolment.id}"')
    assert "<html" not in body
    assert "Aanwezigheid bewaard." in response.headers["HX-Trigger"]
    assert step_status(case, "eerste_keer") == "done"
    assert in_db(lambda: models.Case.get_by_id(case.id).current_position) == 8
    # Telling it again changes nothing.
    client.post(url, data={"attendance": "present", "remark": ""}, headers=HTMX)
    assert event_kinds(case).count("attendance_present") == 1


def test_mediator_records_absence_as_full_page(client, mediator, case) -> None:
    enrolment = started_enrolment(case, mediator)
    session_id = in_db(lambda: min(s.id for s in enrolment.sessions))
    client.login(mediator)
    url = f"/activities/cases/{case.id}/sessions/{session_id}/attendance"
    response = client.post(url, data={"attendance": "absent"})
    assert response.status_code == 303
    assert "attendance_absent" in event_kinds(case)
    assert step_status(case, "eerste_keer") == "todo"


def test_attendance_bad_input_and_future_session(client, mediator, case) -> None:
    enrolment = started_enrolment(case, mediator)
    ids = in_db(lambda: sorted(s.id for s in enrolment.sessions))
    client.login(mediator)
    url = f"/activities/cases/{case.id}/sessions/{ids[0]}/attendance"
    bad = client.post(url, data={"attendance": "misschien"})
    assert bad.status_code == 422
    fragment = client.post(url, data={"attendance": ""}, headers=HTMX)
    assert fragment.status_code == 422
    assert "Kies aanwezig of niet aanwezig." in fragment.get_data(as_text=True)
    future = client.post(
        f"/activities/cases/{case.id}/sessions/{ids[1]}/attendance", data={"attendance": "present"}
    )
    assert future.status_code == 422
    assert "nog niet begonnen" in future.get_data(as_text=True)
    assert in_db(lambda: models.Session.get_by_id(ids[1]).attendance) == ""


def test_stop_an_enrolment_with_a_reason(client, mediator, case) -> None:
    enrolment = enrol(case, make_activity(), mediator)
    client.login(mediator)
    url = f"/activities/cases/{case.id}/enrolments/{enrolment.id}/stop"
    assert "Waarom stopt" in client.get(url).get_data(as_text=True)
    missing = client.post(url, data={"reason": "", "note": "te ver"})
    assert missing.status_code == 422
    assert "Kies een reden." in missing.get_data(as_text=True)
    assert 'value="te ver"' in missing.get_data(as_text=True)
    response = client.post(url, data={"reason": "schedule", "note": "uur past niet"})
    assert response.status_code == 303
    stopped = in_db(lambda: models.Enrolment.get_by_id(enrolment.id))
    assert (stopped.status, stopped.stop_reason, stopped.stop_note) == (
        "stopped",
        "schedule",
        "uur past niet",
    )
    assert (
        in_db(
            lambda: models.Session.select().where(models.Session.enrolment == enrolment.id).count()
        )
        == 0
    )
    assert "enrolment_stopped" in event_kinds(case)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "gestopt" in page and "uurrooster" in page


# --- The case page and Vandaag --------------------------------------------------------------


def test_case_offer_context_runs_a_constant_number_of_queries(app, mediator, case) -> None:
    for i in range(6):
        enrol(case, make_activity(title=f"Activiteit {i}"), mediator)
    with database.connection_context():
        fresh = models.Case.get_by_id(case.id)
        with count_queries() as queries:
            context = case_offer_context(fresh, mediator.id)
    assert len(context["enrolments"]) == 6
    assert len(queries) <= 4


def test_a_long_enrolment_shows_its_last_and_next_sessions_and_counts_the_rest(
    client, mediator, case
) -> None:
    """Forty Wednesdays behind, today's, twelve ahead: the case shows the last three begun
    (today's included), the next three and "en nog 9 keer later", read in the same queries as
    a short enrolment (the rest is counted in the database, not read)."""
    ten = dt.datetime.combine(local_today(), dt.time(10))
    weeks = [ten + dt.timedelta(days=7 * i) for i in range(-40, 13)]
    long = enrol(case, make_activity(title="Zwemclub"), mediator, starts=[to_utc(w) for w in weeks])
    short = enrol(case, make_activity(title="Bib"), mediator)  # two sessions, both coming
    with database.connection_context():
        fresh = models.Case.get_by_id(case.id)
        with count_queries() as queries:
            context = case_offer_context(fresh, mediator.id)
    assert len(queries) <= 4
    shown = context["enrolment_sessions"]

    def days(sessions: list[models.Session]) -> list[dt.date]:
        return [to_local(s.starts_at).date() for s in sessions]

    assert days(shown[long.id]["past"]) == [w.date() for w in weeks[38:41]]
    assert days(shown[long.id]["next"]) == [w.date() for w in weeks[41:44]]
    assert shown[long.id]["later"] == 9
    assert shown[short.id]["past"] == [] and len(shown[short.id]["next"]) == 2
    assert shown[short.id]["later"] == 0
    client.login(mediator)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "en nog 9 keer later" in page


def test_today_shows_sessions_and_cant_come_messages(app, mediator, other_mediator) -> None:
    case = make_case(mediator)
    start = utcnow() + dt.timedelta(hours=2)
    enrolment = enrol(case, make_activity(), mediator, starts=[start])
    make_case(other_mediator, make_client(first_name="Jonas"))
    with database.connection_context():
        session = models.Session.get(models.Session.enrolment == enrolment.id)
        session.enrolment = models.Enrolment.get_by_id(enrolment.id)
        session.record_cant_come("Ik ben ziek")
        day_start = utcnow() - dt.timedelta(hours=1)
        day_end = utcnow() + dt.timedelta(days=2)
        mine = today_offer_context(mediator, day_start, day_end)
        theirs = today_offer_context(other_mediator, day_start, day_end)
        team = today_offer_context(None, day_start, day_end)
    assert [s.id for s in mine["offer_sessions"]] == [session.id]
    assert [s.cant_come_message for s in mine["offer_messages"]] == ["Ik ben ziek"]
    assert theirs["offer_sessions"] == [] and theirs["offer_messages"] == []
    assert [s.id for s in team["offer_sessions"]] == [session.id]


def test_a_coordinator_sees_the_team_sessions_only_in_the_team_view(
    client, coordinator, mediator
) -> None:
    case = make_case(mediator, make_client(first_name="Yasmina"))
    enrol(case, make_activity(), mediator, starts=[utcnow() + dt.timedelta(hours=2)])
    client.login(coordinator)
    assert "Yasmina" not in client.get("/").get_data(as_text=True)
    assert "Yasmina" in client.get("/?scope=team").get_data(as_text=True)


# --- The first session prefilled from the schedule's words -----------------------------------

FRIDAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    ("schedule", "day", "start", "minutes"),
    [
        ("woensdag 14–15.30 uur", dt.date(2026, 12, 2), dt.time(14, 0), 90),
        ("zondag 14-17 uur", dt.date(2026, 11, 29), dt.time(14, 0), 180),
        # The nearest of several weekdays; a weekday after the hours is another event.
        ("maandag en donderdag 16–18 uur", dt.date(2026, 11, 30), dt.time(16, 0), 120),
        ("woensdag 14–15.30 uur, zaterdag wedstrijd", dt.date(2026, 12, 2), dt.time(14, 0), 90),
        # The same weekday as today: next week's (an enrolment is for a coming session).
        ("vrijdag 18:00 - 20 uur", dt.date(2026, 12, 4), dt.time(18, 0), 120),
        ("zaterdag 10 uur", dt.date(2026, 11, 28), dt.time(10, 0), None),
        ("schoolvakanties, 9–17 uur", None, dt.time(9, 0), 480),
        ("9 uur, op woensdag", dt.date(2026, 12, 2), dt.time(9, 0), None),
        ("elke dag, zie uurrooster", None, None, None),
        ("25–27 uur", None, None, None),
        ("", None, None, None),
    ],
)
def test_the_next_session_is_read_from_the_schedule(schedule, day, start, minutes) -> None:
    assert models.guess_next_session(schedule, FRIDAY) == (day, start, minutes)


def value_of(page: str, name: str) -> str:
    field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert field, name
    value = re.search(r'value="([^"]*)"', field.group(0))
    return value.group(1) if value else ""


def test_the_enrol_form_starts_from_the_schedule(client, mediator, case) -> None:
    activity = make_activity(schedule="dinsdag 17.30–19 uur")
    client.login(mediator)
    page = client.get(f"/activities/cases/{case.id}/enrol/{activity.id}").get_data(as_text=True)
    today = local_today()
    tuesday = today + dt.timedelta(days=(1 - today.weekday() - 1) % 7 + 1)
    assert value_of(page, "first_date") == tuesday.isoformat()
    assert value_of(page, "first_time") == "17:30"
    assert value_of(page, "duration_minutes") == "90"
    assert "Ingevuld volgens het uurrooster (dinsdag 17.30–19 uur). Kijk het na." in page
    unreadable = make_activity(title="Zwemmen", schedule="volgens afspraak")
    page = client.get(f"/activities/cases/{case.id}/enrol/{unreadable.id}").get_data(as_text=True)
    assert value_of(page, "first_date") == ""
    assert "Ingevuld volgens het uurrooster" not in page
