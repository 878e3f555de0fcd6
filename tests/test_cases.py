"""The cases area: caseload, new client + case, case page, step tracker, client edit, closing,
reopening and reassigning — as full pages and as htmx fragments, with bad input and conflicts."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import uuid

import pytest

from tests.conftest import (
    HTMX,
    count_queries,
    in_db,
    make_case,
    make_client,
    make_task,
    make_user,
)
from webapp.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Client,
    StepDefinition,
    Task,
    User,
    Visit,
    database,
)
from webapp.templating import short_date
from webapp.timeutil import local_today, utcnow


def body(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def step_id(key: str) -> int:
    return in_db(lambda: StepDefinition.get(StepDefinition.key == key).id)


def reload(case: Case) -> Case:
    return in_db(lambda: Case.get_by_id(case.id))


def add_visit(case: Case, days_ago: int, planned: bool = False, **fields) -> Visit:  # type: ignore[no-untyped-def]
    def create() -> Visit:
        visit = Visit.create(
            case=case,
            mediator=case.mediator_id,
            contact_type=fields.pop("contact_type", "huisbezoek"),
            occurred_at=utcnow() - dt.timedelta(days=days_ago),
            planned=planned,
            idempotency_key=uuid.uuid4().hex,
            **fields,
        )
        CaseEvent.create(case=case, actor=case.mediator_id, kind="visit", visit=visit)
        return visit

    return in_db(create)


# --- Caseload -------------------------------------------------------------------------------


def test_caseload_lists_my_open_cases_with_step_last_contact_and_first_task(
    client, mediator, other_mediator
) -> None:
    mine = make_case(mediator, make_client(first_name="Youssef", last_name="El Idrissi"))
    add_visit(mine, 3)
    make_task(mine, "Later bellen", dt.date(2020, 2, 6))
    make_task(mine, "Bellen naar de voetbalclub", dt.date(2020, 1, 6))
    add_visit(mine, -1, planned=True)  # a planned contact is not a last contact
    make_case(other_mediator, make_client(first_name="Kasia", last_name="Nowak"))
    client.login(mediator)
    page = body(client.get("/cases/"))
    assert "Youssef El Idrissi" in page
    assert "Kasia" not in page
    assert "Stap 2/9 · Kennismaking" in page
    three_days_ago = (utcnow() - dt.timedelta(days=3)).date()
    assert "Laatste contact: " in page and "nog geen" not in page
    # The most urgent open to-do of the case, late since 2020: shown as late, in red.
    assert "Te doen: Bellen naar de voetbalclub" in page and "Later bellen" not in page
    assert 'class="meta overdue"' in page
    assert three_days_ago  # (the date itself is formatted by Babel)


def test_caseload_as_fragment_is_only_the_results(client, mediator) -> None:
    make_case(mediator)
    client.login(mediator)
    response = client.get("/cases/?q=amina", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in body(response) and "Amina Bouzid" in body(response)
    assert 'id="q"' not in body(response)  # the search box stays; only the results swap
    assert "HX-Request" in response.headers["Vary"]
    full = client.get("/cases/?q=amina")
    assert "<html" in body(full) and 'value="amina"' in body(full)


def test_search_form_is_active_search_that_works_without_javascript(client, mediator) -> None:
    client.login(mediator)
    page = body(client.get("/cases/"))
    assert 'method="get"' in page and 'name="q"' in page
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-push-url="true"' in page and 'hx-target="#case-results"' in page


@pytest.mark.parametrize(
    "query, found",
    [
        ("bouz", True),  # part of the last name, any case
        ("AMINA", True),
        ("amina bouzid", True),  # first and last name
        ("borgerhout", True),  # district
        ("0486112233", True),  # phone typed without spaces
        ("11 22", True),
        ("nowak", False),
        ("50%", False),  # LIKE wildcards are taken literally, not as 'anything'
    ],
)
def test_search_by_name_phone_or_district(client, mediator, query: str, found: bool) -> None:
    make_case(mediator)
    client.login(mediator)
    page = body(client.get("/cases/", query_string={"q": query}, headers=HTMX))
    assert ("Amina Bouzid" in page) is found


def test_filters_by_step_and_status(client, mediator) -> None:
    at_step_two = make_case(mediator, make_client(first_name="Mehmet", last_name="Yilmaz"))
    closed = make_case(mediator, make_client(first_name="Ana", last_name="Popescu"))
    in_db(lambda: closed.close("independent", "", "", mediator))
    client.login(mediator)
    assert "Mehmet" in body(client.get("/cases/?step=2"))
    assert "Mehmet" not in body(client.get("/cases/?step=3"))
    open_page = body(client.get("/cases/"))
    assert "Mehmet" in open_page and "Ana Popescu" not in open_page
    closed_page = body(client.get("/cases/?status=closed"))
    assert "Ana Popescu" in closed_page and "Mehmet" not in closed_page
    assert "neemt zelfstandig deel" in closed_page
    assert at_step_two.id
    # Nonsense filters fall back to the defaults instead of failing.
    assert client.get("/cases/?step=99&status=x&page=abc&who=7").status_code == 200


def test_coordinator_toggles_all_cases_and_filters_by_mediator(
    client, mediator, other_mediator, coordinator
) -> None:
    make_case(mediator, make_client(first_name="Fatima", last_name="Amrani"))
    make_case(other_mediator, make_client(first_name="Ivan", last_name="Petrov"))
    client.login(coordinator)
    assert "Je volgt zelf geen dossiers" in body(client.get("/cases/"))
    everyone = body(client.get("/cases/?who=all"))
    assert "Fatima" in everyone and "Ivan" in everyone and "Tom Peeters" in everyone
    one = body(client.get(f"/cases/?who={other_mediator.id}"))
    assert "Ivan" in one and "Fatima" not in one


def test_team_search_lists_the_open_matches_of_every_mediator_by_name(
    client, mediator, other_mediator, coordinator
) -> None:
    def case_of(mediator, first: str, last: str, district: str) -> Case:  # type: ignore[no-untyped-def]
        return make_case(mediator, make_client(first_name=first, last_name=last, district=district))

    zeynep = case_of(other_mediator, "Zeynep", "Çelik", "Deurne")
    add_visit(zeynep, 1)
    ayse = case_of(mediator, "Ayşe", "Çelik", "Borgerhout")
    add_visit(ayse, 0)
    case_of(other_mediator, "Céline", "Aerts", "Celik-district")
    case_of(mediator, "Ali", "Celik", "Hoboken")
    closed = case_of(mediator, "Berkay", "Çelik", "Merksem")
    case_of(mediator, "Amina", "Bouzid", "Borgerhout")  # no match
    with database.connection_context():
        Case.update(status="closed").where(Case.id == closed.id).execute()
    client.login(coordinator)
    page = body(client.get("/cases/?who=all&q=celik"))
    titles = re.findall(r'<span class="title">([^<]+)', page)
    # The matches of every mediator, open cases only, by family name, then first name.
    assert [t.strip() for t in titles] == [
        "Céline Aerts",
        "Ali Celik",
        "Ayşe Çelik",
        "Zeynep Çelik",
    ]
    rows = page.split('<span class="title">')[1:]
    # Each row: its step, its district, whose case it is and when the last contact was.
    assert "Stap 2/9 · Kennismaking" in rows[0] and "Celik-district" in rows[0]
    assert other_mediator.name in rows[0] and "Laatste contact: nog geen" in rows[0]
    assert "Borgerhout" in rows[2]
    assert mediator.name in rows[2] and "Laatste contact: vandaag" in rows[2]
    assert "Laatste contact: gisteren" in rows[3]
    # "Van wie" offers each colleague, not the coordinator themself ("Mijn dossiers").
    who = page.split('id="who"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', who)
    assert (str(mediator.id), mediator.name) in options
    assert (str(other_mediator.id), other_mediator.name) in options
    assert str(coordinator.id) not in [value for value, _name in options]


def test_in_a_big_team_a_colleague_is_chosen_by_name_on_a_page_of_their_own(
    client, mediator, other_mediator, coordinator
) -> None:
    """Up to 30 colleagues, "Van wie" lists them all; a city network of hundreds would be a
    list of hundreds on a phone: then a colleague is found by name, 20 at a time."""
    from webapp.cases import COLLEAGUES_IN_CHOICE

    make_case(other_mediator, make_client(first_name="Ivan", last_name="Petrov"))
    make_case(mediator, make_client(first_name="Fatima", last_name="Zahra"))
    client.login(coordinator)

    def options(page: str) -> list[str]:
        who = page.split('id="who"')[1].split("</select>")[0]
        return re.findall(r'<option value="([^"]+)"', who)

    with count_queries() as few:
        small = body(client.get(f"/cases/?who={other_mediator.id}"))
    assert options(small) == ["mine", "all", str(mediator.id), str(other_mediator.id)]
    assert "Een collega kiezen" not in small
    for n in range(COLLEAGUES_IN_CHOICE):
        make_user(f"collega{n}@vrijbaan.test", f"Collega {n:02d} Janssens")

    team = body(client.get("/cases/?who=all"))
    assert options(team) == ["mine", "all"] and "Een collega kiezen" in team
    assert "Ivan" in team and "Fatima" in team

    chooser = body(client.get("/cases/collegas"))
    names = re.findall(r'<span class="title">([^<]+)</span>', chooser)
    assert len(names) == 20 and names[0] == "Collega 00 Janssens" and "Meer tonen" in chooser
    everyone = body(client.get("/cases/collegas?page=2"))
    # Everyone who can follow cases: 30 colleagues, Sara, Tom and the coordinator.
    assert len(re.findall(r'<span class="title">', everyone)) == 33 and "Meer tonen" not in everyone
    found = body(client.get("/cases/collegas?q=peeters"))
    assert re.findall(r'<span class="title">([^<]+)</span>', found) == ["Tom Peeters"]
    assert "1 open dossier" in found and f'href="/cases/?who={other_mediator.id}"' in found
    assert "Niemand gevonden voor ‘zzz’." in body(client.get("/cases/collegas?q=zzz"))

    with count_queries() as many:
        theirs = body(client.get(f"/cases/?who={other_mediator.id}"))
    assert len(many) == len(few)
    assert options(theirs) == ["mine", "all", str(other_mediator.id)]
    assert f'<option value="{other_mediator.id}" selected>Tom Peeters</option>' in theirs
    assert "Ivan" in theirs and "Fatima" not in theirs
    # Someone who is not an active colleague is no choice: the coordinator's own list.
    assert "Je volgt zelf geen dossiers" in body(client.get("/cases/?who=99999"))


def test_only_a_coordinator_chooses_whose_cases(client, mediator) -> None:
    client.login(mediator)
    assert client.get("/cases/collegas").status_code == 403


def test_mediator_cannot_use_the_coordinators_filter(client, mediator, other_mediator) -> None:
    make_case(other_mediator, make_client(first_name="Ivan", last_name="Petrov"))
    make_case(mediator, make_client(first_name="Fatima", last_name="Zahra"))
    client.login(mediator)
    for who in ("all", other_mediator.id):
        page = body(client.get(f"/cases/?who={who}"))
        assert "Fatima" in page and "Ivan" not in page, who  # their own caseload, as without


def bulk_cases(mediator, n: int, prefix: str = "Bulk") -> None:  # type: ignore[no-untyped-def]
    """n clients with a case each and a visit on every case, inserted in a few statements."""

    def insert() -> None:
        with database.atomic():
            Client.insert_many(
                [
                    {"first_name": f"{prefix}{i:05d}", "last_name": prefix, "district": "Deurne"}
                    for i in range(n)
                ]
            ).execute()
            ids = [c.id for c in Client.select(Client.id).where(Client.last_name == prefix)]
            Case.insert_many(
                [{"client": cid, "mediator": mediator.id, "current_position": 3} for cid in ids]
            ).execute()
            case_ids = [c.id for c in Case.select(Case.id).where(Case.client.in_(ids))]
            Visit.insert_many(
                [
                    {
                        "case": cid,
                        "mediator": mediator.id,
                        "contact_type": "telefonisch",
                        "occurred_at": utcnow() - dt.timedelta(days=1),
                        "idempotency_key": uuid.uuid4().hex,
                    }
                    for cid in case_ids
                ]
            ).execute()
            Task.insert_many(
                [{"case": cid, "text": "Terugbellen", "due": local_today()} for cid in case_ids]
            ).execute()

    in_db(insert)


def test_caseload_runs_the_same_number_of_queries_for_10_and_1010_cases(
    client, mediator, coordinator
) -> None:
    bulk_cases(mediator, 10, "Tien")
    client.login(mediator)
    counts = {}
    for label in ("10", "1010"):
        if label == "1010":
            bulk_cases(mediator, 1000, "Duizend")
        with count_queries() as small:
            response = client.get("/cases/")
        assert response.status_code == 200
        with count_queries() as search:
            client.get("/cases/?q=tien", headers=HTMX)
        counts[label] = (len(small), len(search))
    assert counts["10"] == counts["1010"], counts
    assert counts["10"][0] <= 6
    # The page shows one page of rows and a way to load more.
    page = body(client.get("/cases/"))
    assert page.count('class="title"') == 25 and "Meer laden" in page
    client.login(coordinator)
    with count_queries() as everyone:
        assert client.get("/cases/?who=all").status_code == 200
    assert len(everyone) <= counts["10"][0] + 1


def test_load_more_appends_rows_and_works_as_a_plain_link(client, mediator) -> None:
    bulk_cases(mediator, 30)
    client.login(mediator)
    first = body(client.get("/cases/"))
    assert first.count('class="title"') == 25
    assert 'hx-swap="outerHTML"' in first and "page=2" in first
    more = client.get("/cases/?page=2", headers=HTMX)
    rows = body(more)
    assert rows.count('class="title"') == 5 and "<ul" not in rows and "Meer laden" not in rows
    assert "Bulk00025" in rows and "Bulk00000" not in rows
    plain = body(client.get("/cases/?page=2"))  # without JavaScript: the first two pages
    assert plain.count('class="title"') == 30 and "<html" in plain


# --- New client and case ------------------------------------------------------------------------


def new_case_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": "Oksana",
        "last_name": "Kowalczyk",
        "birth_date": "1988-05-02",
        "phone": "0478 55 66 77",
        "district": "Hoboken",
        "language": "pl",
        "question": "Zwemles voor haar twee kinderen",
        "interests": ["sport", "jeugd"],
        "source": "permanentie",
    }
    data.update(overrides)
    return data


def test_new_case_form_as_page_and_fragment(client, mediator) -> None:
    client.login(mediator)
    page = client.get("/cases/new")
    assert page.status_code == 200 and "Voornaam" in body(page) and "<html" in body(page)
    assert 'name="mediator"' not in body(page)  # a mediator opens cases for themselves
    fragment = client.get("/cases/new", headers=HTMX)
    assert "<html" not in body(fragment) and 'id="new-case-form"' in body(fragment)


def test_create_client_and_case(client, mediator) -> None:
    client.login(mediator)
    response = client.post("/cases/new", data=new_case_data())
    assert response.status_code == 303
    case = in_db(lambda: Case.select().join(Client).where(Client.last_name == "Kowalczyk").get())
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.mediator_id == mediator.id and case.source == "permanentie"
    assert case.interest_list == ["sport", "jeugd"] and case.current_position == 2
    steps = in_db(lambda: {s.step.key: s.status for s in case.steps()})
    assert steps["aanmelding"] == "done" and steps["kennismaking"] == "todo"
    page = body(client.get(response.headers["Location"]))
    assert "Oksana Kowalczyk" in page and "Dossier geopend" in page
    actions = in_db(lambda: {(a.action, a.object_type) for a in AuditEvent.select()})
    assert {("create", "client"), ("create", "case"), ("view", "case")} <= actions


def test_create_with_htmx_sends_the_browser_to_the_case(client, mediator) -> None:
    client.login(mediator)
    response = client.post("/cases/new", data=new_case_data(), headers=HTMX)
    assert response.status_code == 204
    assert json.loads(response.headers["HX-Location"])["path"].startswith("/cases/")


def test_coordinator_chooses_the_mediator(client, mediator, coordinator) -> None:
    client.login(coordinator)
    assert 'name="mediator"' in body(client.get("/cases/new"))
    response = client.post("/cases/new", data=new_case_data(mediator=mediator.id))
    assert response.status_code == 303
    assert in_db(lambda: Case.select().get().mediator_id) == mediator.id
    bad = client.post("/cases/new", data=new_case_data(mediator=99999, first_name="Other"))
    assert bad.status_code == 422 and "Kies een van de mogelijkheden" in body(bad)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("first_name", "", "Vul de voornaam in."),
        ("last_name", "   ", "Vul de familienaam in."),
        ("first_name", "x" * 81, "Maximaal 80 tekens."),
        ("birth_date", (local_today() + dt.timedelta(days=3)).isoformat(), "toekomst"),
        ("birth_date", "1800-01-01", "Deze datum kan niet kloppen."),
        ("birth_date", "31-31-2020", "Typ een datum"),
        ("phone", "bel me", "Een telefoonnummer heeft alleen cijfers"),
        ("district", "Gotham", "Kies een van de mogelijkheden."),
        ("language", "klingon", "Kies een van de mogelijkheden."),
        ("interests", ["sport", "paardrijden"], "Kies een van de mogelijkheden."),
        ("source", "tv", "Kies een van de mogelijkheden."),
        ("question", "x" * 2001, "Maximaal 2000 tekens."),
    ],
)
def test_new_case_rejects_bad_input_next_to_the_field(
    client, mediator, field: str, value: object, message: str
) -> None:
    client.login(mediator)
    response = client.post("/cases/new", data=new_case_data(**{field: value}))
    assert response.status_code == 422
    page = body(response)
    assert message in page
    assert f'id="{field}-error"' in page or (field == "interests" and "error" in page)
    assert 'value="0478 55 66 77"' in page or field == "phone"  # the input is kept
    assert in_db(lambda: Case.select().count()) == 0


def test_probable_duplicate_warns_with_a_link_and_keeps_the_input(client, mediator) -> None:
    existing = make_case(
        mediator,
        make_client(first_name="Oksana", last_name="Kowalczyk", birth_date=dt.date(1988, 5, 2)),
    )
    client.login(mediator)
    response = client.post("/cases/new", data=new_case_data(first_name="oksana"))
    assert response.status_code == 200
    page = body(response)
    assert "Deze cliënt bestaat misschien al" in page
    assert f'href="/cases/{existing.id}"' in page
    assert "Toch een nieuwe cliënt maken" in page
    assert 'value="oksana"' in page and "Zwemles voor haar twee kinderen</textarea>" in page
    assert in_db(lambda: Client.select().count()) == 1
    again = client.post("/cases/new", data=new_case_data(create_anyway="y"))
    assert again.status_code == 303
    assert in_db(lambda: Client.select().count()) == 2


def test_duplicate_of_a_colleague_is_named_but_not_shown(client, mediator, other_mediator) -> None:
    theirs = make_case(
        other_mediator,
        make_client(first_name="Oksana", last_name="Kowalczyk", birth_date=dt.date(1988, 5, 2)),
    )
    client.login(mediator)
    page = body(client.post("/cases/new", data=new_case_data()))
    assert "bij een collega" in page and "coördinator" in page
    assert f"/cases/{theirs.id}" not in page and "Hoboken" not in page.split("duplicate")[0]


# --- Case page and step tracker -------------------------------------------------------------


def test_case_page_shows_client_header_tracker_and_timeline(client, mediator, coordinator) -> None:
    case = make_case(
        mediator,
        make_client(
            card_type="uitpas",
            card_valid_until=dt.date(2020, 12, 31),
            birth_date=dt.date(1990, 1, 1),
        ),
    )
    add_visit(
        case,
        2,
        contact_type="permanentie",
        place="Sociaal huis Borgerhout",
        notes="Kent de buurt goed",
    )
    client.login(mediator)
    page = body(client.get(f"/cases/{case.id}"))
    assert "Amina Bouzid" in page and "Borgerhout" in page and "العربية" in page
    assert 'href="tel:+32486112233"' in page
    assert "UiTPAS met kansentarief" in page and "verlopen" in page
    assert "Stap 2/9 · Kennismaking" in page and "<details" in page
    assert page.index("Stap 2/9") < page.index('id="case-timeline"')
    assert (
        "permanentie" in page and "Sociaal huis Borgerhout" in page and "Kent de buurt goed" in page
    )
    assert "Dossier geopend" in page and "Sara El Amrani" in page
    assert f"/cases/{case.id}/assign" not in page  # only a coordinator reassigns
    views = in_db(
        lambda: (
            AuditEvent.select()
            .where(AuditEvent.action == "view", AuditEvent.object_id == case.id)
            .count()
        )
    )
    assert views == 1
    client.login(coordinator)
    assert f"/cases/{case.id}/assign" in body(client.get(f"/cases/{case.id}"))


def test_case_page_as_fragment_is_the_tracker(client, mediator, case) -> None:
    client.login(mediator)
    response = client.get(f"/cases/{case.id}", headers=HTMX)
    page = body(response)
    assert response.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith('<section id="step-tracker"')
    assert 'hx-target="this"' in page and 'hx-swap="outerHTML"' in page


def test_mark_step_done_swaps_the_tracker_and_announces(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/steps/{step_id('kennismaking')}",
        data={"version": 1, "status": "done", "note": "Thuis bij het gezin"},
        headers=HTMX,
    )
    assert response.status_code == 200
    page = body(response)
    assert "<html" not in page and "Stap 3/9 · Vraagverheldering" in page
    assert "data-focus" in page
    assert "Kennismaking gedaan" in json.loads(response.headers["HX-Trigger"])["announce"]
    # The timeline on the page is replaced too (out of band), newest first: this change.
    timeline = page[page.index('id="case-timeline"') :]
    assert 'hx-swap-oob="true"' in timeline[:80]
    assert timeline.index("Thuis bij het gezin") < timeline.index("Dossier geopend")
    stored = reload(case)
    assert stored.version == 2 and stored.current_position == 3
    event = in_db(lambda: CaseEvent.select().order_by(CaseEvent.id.desc()).first())
    assert event.kind == "step_done" and event.detail == "Thuis bij het gezin"


def test_mark_step_without_javascript_redirects_to_the_case(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/steps/{step_id('kennismaking')}",
        data={"version": 1, "status": "skipped"},
    )
    assert response.status_code == 303 and f"/cases/{case.id}" in response.headers["Location"]
    page = body(client.get(f"/cases/{case.id}"))
    assert "Stap Kennismaking overgeslagen" in page and "Stap 3/9" in page


def test_stale_step_change_is_a_409_with_the_current_tracker(client, mediator, case) -> None:
    client.login(mediator)
    url = f"/cases/{case.id}/steps/{step_id('kennismaking')}"
    assert client.post(url, data={"version": 1, "status": "done"}, headers=HTMX).status_code == 200
    stale = client.post(
        f"/cases/{case.id}/steps/{step_id('vraagverheldering')}",
        data={"version": 1, "status": "skipped"},
        headers=HTMX,
    )
    assert stale.status_code == 409
    page = body(stale)
    assert "Iemand anders wijzigde dit dossier" in page and "Stap 3/9 · Vraagverheldering" in page
    assert 'name="version" value="2"' in page  # trying again works from the current state
    assert reload(case).current_position == 3
    plain = client.post(
        f"/cases/{case.id}/steps/{step_id('vraagverheldering')}",
        data={"version": 1, "status": "done"},
    )
    assert plain.status_code == 409 and "<html" in body(plain)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"version": 1, "status": "finished"}, "Kies een van de mogelijkheden."),
        ({"version": 1, "status": "done", "note": "x" * 501}, "Maximaal 500 tekens."),
        ({"status": "done"}, "Dit veld is vereist."),
    ],
)
def test_bad_step_change_is_refused_in_the_tracker(client, mediator, case, data, message) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/steps/{step_id('kennismaking')}", data=data, headers=HTMX
    )
    assert response.status_code == 422 and message in body(response)
    assert reload(case).version == 1


def test_unknown_step_is_404(client, mediator, case) -> None:
    client.login(mediator)
    assert (
        client.post(
            f"/cases/{case.id}/steps/999", data={"version": 1, "status": "done"}
        ).status_code
        == 404
    )


def test_afronding_is_done_only_by_closing(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/steps/{step_id('afronding')}",
        data={"version": 1, "status": "done"},
        headers=HTMX,
    )
    assert response.status_code == 422 and "Dossier afronden" in body(response)
    assert reload(case).status == "open"


# --- Client details ---------------------------------------------------------------------------


def client_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "version": 1,
        "first_name": "Amina",
        "last_name": "Bouzid",
        "birth_date": "2012-03-14",
        "phone": "0486 11 22 33",
        "email": "",
        "street": "Turnhoutsebaan 120",
        "postcode": "2140",
        "district": "Borgerhout",
        "language": "ar",
        "household_note": "Woont met mama en twee broers",
        "card_type": "a-kaart",
        "card_valid_until": "2026-12-31",
    }
    data.update(overrides)
    return data


def test_edit_client_page_and_fragment(client, mediator, case) -> None:
    client.login(mediator)
    page = body(client.get(f"/cases/{case.id}/client"))
    assert "<html" in page and 'value="Bouzid"' in page and 'name="version"' in page
    assert "rijksregister" not in page.lower() and "diagnose" not in page.lower()
    fragment = body(client.get(f"/cases/{case.id}/client", headers=HTMX))
    assert "<html" not in fragment and 'id="client-form"' in fragment


def test_save_client_details(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/client", data=client_data())
    assert response.status_code == 303
    stored = in_db(lambda: Client.get_by_id(case.client_id))
    assert stored.street == "Turnhoutsebaan 120" and stored.version == 2
    assert stored.card_valid_until == dt.date(2026, 12, 31)
    event = in_db(lambda: CaseEvent.get(CaseEvent.kind == "client_updated"))
    assert "straat" in event.detail.lower() and "Turnhoutsebaan" not in event.detail
    assert (
        in_db(
            lambda: (
                AuditEvent.select()
                .where(AuditEvent.action == "update", AuditEvent.object_type == "client")
                .count()
            )
        )
        == 1
    )


def test_stale_client_save_is_409_keeping_input_and_showing_what_changed(
    client, mediator, coordinator, case
) -> None:
    client.login(coordinator)
    assert (
        client.post(f"/cases/{case.id}/client", data=client_data(phone="0499 00 00 00")).status_code
        == 303
    )
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/client", data=client_data(phone="0477 77 77 77"))
    assert response.status_code == 409
    page = body(response)
    assert "Iemand anders bewaarde deze gegevens" in page
    assert "0477 77 77 77" in page and "0499 00 00 00" in page  # mine and the stored value
    assert 'value="0477 77 77 77"' in page  # my input is still in the form
    assert 'name="version" type="hidden" value="2"' in page or 'value="2"' in page
    assert "Toch mijn versie bewaren" in page and "weggooien" in page
    assert in_db(lambda: Client.get_by_id(case.client_id).phone) == "0499 00 00 00"
    again = client.post(
        f"/cases/{case.id}/client", data=client_data(phone="0477 77 77 77", version=2)
    )
    assert again.status_code == 303
    assert in_db(lambda: Client.get_by_id(case.client_id).phone) == "0477 77 77 77"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("first_name", "", "Vul de voornaam in."),
        ("street", "x" * 121, "Maximaal 120 tekens."),
        ("postcode", "20000", "Een postcode heeft 4 cijfers."),
        ("email", "amina@", "Dit is geen e-mailadres."),
        ("birth_date", "2999-01-01", "toekomst"),
        ("birth_date", "1800-02-02", "Deze datum kan niet kloppen."),
        ("language", "xx", "Kies een van de mogelijkheden."),
        ("card_type", "goldcard", "Kies een van de mogelijkheden."),
        ("card_valid_until", "morgen", "Typ een datum"),
    ],
)
def test_client_edit_rejects_bad_input(client, mediator, case, field, value, message) -> None:
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/client", data=client_data(**{field: value}))
    assert response.status_code == 422
    page = body(response)
    assert message in page and f'id="{field}-error"' in page
    assert 'value="Turnhoutsebaan 120"' in page or field == "street"
    assert in_db(lambda: Client.get_by_id(case.client_id).version) == 1


# --- Closing, reopening, reassigning ----------------------------------------------------------


def test_close_form_page_and_fragment(client, mediator, case) -> None:
    client.login(mediator)
    assert "Hoe loopt het af?" in body(client.get(f"/cases/{case.id}/close"))
    fragment = body(client.get(f"/cases/{case.id}/close", headers=HTMX))
    assert "<html" not in fragment and 'id="close-form"' in fragment


def test_close_with_an_outcome_and_reopen(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/close",
        data={
            "version": 1,
            "outcome": "stopped",
            "reason": "schedule",
            "note": "Werkt nu 's avonds",
        },
    )
    assert response.status_code == 303
    closed = reload(case)
    assert closed.status == "closed" and closed.closed_at and closed.outcome_reason == "schedule"
    assert in_db(lambda: {s.step.key: s.status for s in closed.steps()})["afronding"] == "done"
    page = body(client.get(f"/cases/{case.id}"))
    assert "Dossier afgerond" in page and "uurrooster" in page and "Dossier heropenen" in page
    assert "Contact registreren" not in page
    reopened = client.post(f"/cases/{case.id}/reopen", data={"version": closed.version})
    assert reopened.status_code == 303
    case = reload(case)
    assert case.status == "open" and case.closed_at is None
    assert in_db(lambda: {s.step.key: s.status for s in case.steps()})["afronding"] == "todo"
    kinds = in_db(lambda: [e.kind for e in CaseEvent.timeline(case)])
    assert kinds[:2] == ["step_undone", "reopened"] and "closed" in kinds


@pytest.mark.parametrize(
    "data, message",
    [
        ({"version": 1}, "Kies hoe het dossier afloopt."),
        ({"version": 1, "outcome": "vanished"}, "Kies een van de mogelijkheden."),
        ({"version": 1, "outcome": "stopped"}, "Kies waarom de cliënt stopte."),
        (
            {"version": 1, "outcome": "stopped", "reason": "boredom"},
            "Kies een van de mogelijkheden.",
        ),
        ({"version": 1, "outcome": "referred", "note": "x" * 1001}, "Maximaal 1000 tekens."),
    ],
)
def test_close_rejects_bad_input(client, mediator, case, data, message) -> None:
    client.login(mediator)
    response = client.post(f"/cases/{case.id}/close", data=data)
    assert response.status_code == 422 and message in body(response)
    assert reload(case).status == "open"


def test_stale_close_and_reopen_are_409(client, mediator, case) -> None:
    client.login(mediator)
    client.post(
        f"/cases/{case.id}/steps/{step_id('kennismaking')}", data={"version": 1, "status": "done"}
    )
    stale = client.post(
        f"/cases/{case.id}/close",
        data={"version": 1, "outcome": "unreachable", "note": "3x gebeld"},
    )
    assert stale.status_code == 409
    page = body(stale)
    assert "Iemand anders wijzigde dit dossier" in page and "3x gebeld" in page
    assert 'value="2"' in page and reload(case).status == "open"
    assert (
        client.post(
            f"/cases/{case.id}/close", data={"version": 2, "outcome": "unreachable"}
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/cases/{case.id}/close", data={"version": 3, "outcome": "unreachable"}
        ).status_code
        == 409
    )
    assert client.post(f"/cases/{case.id}/reopen", data={"version": 1}).status_code == 409
    assert reload(case).status == "closed"


def test_steps_of_a_closed_case_cannot_change(client, mediator, case) -> None:
    in_db(lambda: case.close("referred", "", "", mediator))
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/steps/{step_id('kennismaking')}",
        data={"version": reload(case).version, "status": "done"},
        headers=HTMX,
    )
    assert response.status_code == 409 and "Heropen" in body(response)


def test_coordinator_reassigns_a_case(client, mediator, other_mediator, coordinator, case) -> None:
    client.login(coordinator)
    form = client.get(f"/cases/{case.id}/assign")
    assert form.status_code == 200 and "Tom Peeters" in body(form)
    assert "<html" not in body(client.get(f"/cases/{case.id}/assign", headers=HTMX))
    response = client.post(
        f"/cases/{case.id}/assign", data={"version": 1, "mediator": other_mediator.id}
    )
    assert response.status_code == 303
    assert reload(case).mediator_id == other_mediator.id
    event = in_db(lambda: CaseEvent.get(CaseEvent.kind == "assigned"))
    assert event.detail == "Tom Peeters" and event.actor_id == coordinator.id
    assert in_db(lambda: AuditEvent.get(AuditEvent.action == "assign").object_id) == case.id
    client.login(mediator)
    assert client.get(f"/cases/{case.id}").status_code == 404  # no longer theirs


def test_assigning_shows_service_caseload_languages_and_district(
    client, mediator, other_mediator, coordinator, case
) -> None:
    in_db(lambda: User.update(languages="ar,fr").where(User.id == other_mediator.id).execute())
    for district in ("Deurne", "Deurne", "Hoboken"):
        make_case(other_mediator, make_client(first_name="X", district=district))
    client.login(coordinator)
    with count_queries() as few:
        client.get(f"/cases/{case.id}/assign")
    make_case(other_mediator, make_client(first_name="Y", district="Merksem"))
    with count_queries() as more:
        page = body(client.get(f"/cases/{case.id}/assign"))
    assert len(more) == len(few)
    choice = page.split(f'value="{other_mediator.id}"')[1].split("</label>")[0]
    assert "4 open dossiers" in choice
    assert "Spreekt <bdi>العربية</bdi>, <bdi>Français</bdi>" in choice
    assert "Vooral in Deurne, Hoboken" in choice  # the two with most clients
    mine = page.split(f'value="{mediator.id}" checked')[1].split("</label>")[0]
    assert "1 open dossier" in mine and "Vooral in Borgerhout" in mine


def test_reassign_refuses_an_inactive_or_unknown_mediator(
    client, mediator, coordinator, case
) -> None:
    gone = make_user("old@vrijbaan.test", "Oud Lid", active=False)
    client.login(coordinator)
    for value in (gone.id, 9999, "abc"):
        response = client.post(f"/cases/{case.id}/assign", data={"version": 1, "mediator": value})
        assert response.status_code == 422 and "error" in body(response)
    assert reload(case).mediator_id == mediator.id


def test_assigning_in_a_big_team_shows_twenty_at_a_time_and_finds_by_name(
    client, mediator, coordinator, case
) -> None:
    """A city network has hundreds of people: the page shows 20, "Meer tonen" the next 20,
    and a search finds a colleague however the name is typed; one further away than the
    first page can still be chosen."""
    colleagues = [make_user(f"c{i:02d}@vrijbaan.test", f"Collega {i:02d}") for i in range(25)]
    ozlem = make_user("ozlem@vrijbaan.test", "Özlem Çelik")
    make_case(ozlem, make_client(first_name="Z", district="Merksem"))
    client.login(coordinator)
    with count_queries() as first:
        page = body(client.get(f"/cases/{case.id}/assign"))
    assert page.count('name="mediator"') == 20
    assert f'href="/cases/{case.id}/assign?page=2"' in page
    with count_queries() as second:
        more = body(client.get(f"/cases/{case.id}/assign?page=2"))
    assert len(second) == len(first)
    assert more.count('name="mediator"') == 28  # 25, Özlem, Sara and the coordinator
    assert "?page=3" not in more
    # The person chosen before "Meer tonen" (htmx sends the choice along) stays chosen.
    chosen = body(client.get(f"/cases/{case.id}/assign?page=2&mediator={colleagues[3].id}"))
    assert re.search(rf'value="{colleagues[3].id}" checked', chosen)
    assert f'value="{mediator.id}" checked' not in chosen
    for nonsense in ("abc", str(2**70), "-1"):  # nothing chosen then but who follows it now
        shown = body(client.get(f"/cases/{case.id}/assign?page=2&mediator={nonsense}"))
        assert f'value="{mediator.id}" checked' in shown
    found = body(client.get(f"/cases/{case.id}/assign?q=OZLEM+celik"))
    assert found.count('name="mediator"') == 1 and "Özlem Çelik" in found
    assert "1 open dossier" in found and "Vooral in Merksem" in found
    nobody = body(client.get(f"/cases/{case.id}/assign?q=niemand"))
    assert "Niemand gevonden voor ‘niemand’." in nobody
    # A refused choice shows the list the coordinator was looking at.
    refused = client.post(f"/cases/{case.id}/assign?q=ozlem", data={"version": 1})
    assert refused.status_code == 422 and "Özlem Çelik" in body(refused)
    assert "Collega 00" not in body(refused)
    last = colleagues[-1]
    response = client.post(f"/cases/{case.id}/assign", data={"version": 1, "mediator": last.id})
    assert response.status_code == 303 and reload(case).mediator_id == last.id


# --- Access ---------------------------------------------------------------------------------


MEDIATOR_CASE_URLS = [
    ("GET", "/cases/{id}"),
    ("GET", "/cases/{id}/client"),
    ("POST", "/cases/{id}/client"),
    ("GET", "/cases/{id}/close"),
    ("POST", "/cases/{id}/close"),
    ("POST", "/cases/{id}/reopen"),
    ("POST", "/cases/{id}/steps/{step}"),
]
# Assigning is the coordinator's: 403 for every mediator (tests/test_access.py).
CASE_URLS = [*MEDIATOR_CASE_URLS, ("GET", "/cases/{id}/assign"), ("POST", "/cases/{id}/assign")]


@pytest.mark.parametrize("method, url", MEDIATOR_CASE_URLS)
def test_another_mediators_case_urls_are_404(client, mediator, other_mediator, method, url) -> None:
    case = make_case(other_mediator)
    client.login(mediator)
    target = url.format(id=case.id, step=step_id("kennismaking"))
    response = client.open(target, method=method, data={"version": 1, "status": "done"})
    assert response.status_code == 404
    assert reload(case).version == 1


@pytest.mark.parametrize("method, url", CASE_URLS)
def test_coordinator_reaches_every_case_url(client, mediator, coordinator, method, url) -> None:
    case = make_case(mediator)
    client.login(coordinator)
    target = url.format(id=case.id, step=step_id("kennismaking"))
    response = client.open(target, method=method, data={})
    assert response.status_code in (200, 409, 422), (target, response.status_code)


def test_a_mediator_cannot_reassign_even_their_own_case(
    client, mediator, other_mediator, case
) -> None:
    client.login(mediator)
    assert client.get(f"/cases/{case.id}/assign").status_code == 403
    response = client.post(
        f"/cases/{case.id}/assign", data={"version": 1, "mediator": other_mediator.id}
    )
    assert response.status_code == 403 and reload(case).mediator_id == mediator.id


def test_post_without_csrf_token_is_refused(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/steps/{step_id('kennismaking')}",
        data={"version": 1, "status": "done"},
        csrf=False,
    )
    assert response.status_code == 400 and reload(case).version == 1


# --- Budgets --------------------------------------------------------------------------------


def test_case_page_is_small_and_runs_constant_queries(client, mediator, case) -> None:
    for n in range(30):
        visit = add_visit(
            case,
            n + 1,
            contact_type=("huisbezoek", "telefonisch", "permanentie")[n % 3],
            duration_minutes=45,
            place="Bij de cliënt thuis, Turnhoutsebaan",
            notes="Gesprek over zwemles voor de kinderen; mama wil eerst het zwembad zien. " * 2,
        )
        make_task(case, "Inschrijving zwemclub nakijken", local_today(), visit=visit)
    client.login(mediator)
    with count_queries() as queries:
        response = client.get(f"/cases/{case.id}")
    size = len(gzip.compress(response.get_data()))
    assert response.get_data(as_text=True).count("Gesprek over zwemles") >= 30
    assert size <= 14 * 1024, size
    bulk_cases(mediator, 1000)
    for n in range(20):
        make_task(case, f"Nog iets {n}", local_today(), visit=add_visit(case, n + 40))
    with count_queries() as more:
        client.get(f"/cases/{case.id}")
    assert len(more) == len(queries)


def test_caseload_page_is_small(client, mediator) -> None:
    bulk_cases(mediator, 60)
    client.login(mediator)
    response = client.get("/cases/")
    assert len(gzip.compress(response.get_data())) <= 14 * 1024


# --- Demo data ------------------------------------------------------------------------------


def test_demo_cases_cover_every_step_outcome_and_contact_type(app) -> None:
    import random

    from webapp.demo import cases as demo_cases
    from webapp.demo import team
    from webapp.models import CONTACT_TYPES, OUTCOMES
    from webapp.timeutil import local_day_bounds, local_today

    with database.connection_context():
        users = team.seed(random.Random(3))
        cases = demo_cases.seed(random.Random(3), users)
        assert len(cases) == Client.select().count() == 40
        open_positions = {c.current_position for c in Case.select().where(Case.status == "open")}
        assert open_positions == set(range(1, 10))
        outcomes = {c.outcome for c in Case.select().where(Case.status == "closed")}
        assert outcomes == set(OUTCOMES)
        done = Visit.select().where(Visit.planned == False)  # noqa: E712
        assert {v.contact_type for v in done} == set(CONTACT_TYPES)
        assert all(v.occurred_at < utcnow() for v in done)
        planned = list(Visit.select().where(Visit.planned == True))  # noqa: E712
        tomorrow_start, tomorrow_end = local_day_bounds(local_today() + dt.timedelta(days=1))
        # The next contacts are later today (late at night: the next quarters, past midnight).
        _, today_end = local_day_bounds(local_today())
        soon = max(today_end, utcnow() + dt.timedelta(hours=3))
        assert any(utcnow() < v.occurred_at < soon for v in planned)
        assert any(tomorrow_start <= v.occurred_at < tomorrow_end for v in planned)
        assert all(v.occurred_at > utcnow() for v in planned)
        open_tasks = list(Task.select().where(Task.done_at.is_null()))
        dues = {t.due for t in open_tasks}
        assert local_today() in dues and any(d < local_today() for d in dues)
        # Several open to-dos on some cases, each planned by a visit of that case.
        per_case = [t.case_id for t in open_tasks]
        assert any(per_case.count(c) > 1 for c in per_case)
        assert all(t.visit.case_id == t.case_id for t in open_tasks if t.source == "visit")
        owners = {c.mediator_id for c in Case.select()}
        assert owners == {u.id for u in users if u.role == "mediator"}
        assert (
            CaseEvent.select().where(CaseEvent.visit.is_null(False)).count()
            == Visit.select().count()
        )
        ages = [c.age() for c in Client.select()]
        assert min(ages) < 10 and max(ages) > 65


@pytest.mark.parametrize(
    ("valid_for_days", "badge"),
    [(-1, "verlopen"), (0, "verloopt binnenkort"), (29, "verloopt binnenkort"), (30, None)],
)
def test_the_case_page_warns_before_the_reduced_rate_card_expires(
    app, client, mediator, valid_for_days, badge
) -> None:
    # An attest runs out: a month ahead there is time to have it renewed before a fee is due.
    valid_until = local_today() + dt.timedelta(days=valid_for_days)
    case = make_case(mediator, make_client(card_type="uitpas", card_valid_until=valid_until))
    client.login(mediator)
    page = body(client.get(f"/cases/{case.id}"))
    with app.test_request_context():
        assert f"geldig tot {short_date(valid_until)}" in page
    for label in ("verlopen", "verloopt binnenkort"):
        assert (f">{label}</span>" in page) is (label == badge)
