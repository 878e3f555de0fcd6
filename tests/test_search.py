"""Search finds people the way they are typed on a phone: without accents or capitals, part of a
name, "first last" or "last first", a phone number in any form, a referral's reference — on the
caseload, the coordinator's view of the team's cases, the duplicate warning, intake matching and
the offer, with the same answers and a fixed number of queries on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
from markupsafe import escape
from peewee import PostgresqlDatabase, ProgrammingError

from tests.conftest import HTMX, count_queries, in_db, make_case, make_client
from tests.test_activities import make_activity, make_provider
from tests.test_referrals import make_organisation, make_referral
from webapp import models
from webapp.db import database
from webapp.migrations import create_tables
from webapp.models.search import (
    contains,
    create_search_indexes,
    fold,
    matches_all,
    phone_forms,
    search_words,
)

BORN = dt.date(1990, 4, 12)

# Antwerp's people as they are written, and as a mediator types them on a phone.
PEOPLE = [
    ("Ayşe", "Çelik", ["celik", "ays", "ayse", "AYSE CELIK", "celik ayse", "Çelik", "elik"]),
    ("Lucía", "García", ["lucia", "garcia", "garcia lucia", "LUCÍA"]),
    ("Zofia", "Wiśniewska", ["wisniewska", "wiśniewska", "zofia wis", "niew"]),
    ("Łukasz", "Krzyżanowski", ["lukasz", "krzyzanowski", "krzyz luk"]),
    ("Søren", "Ørsted", ["soren", "orsted", "Ørsted", "soren orsted"]),
    ("Ğül", "Şahin", ["gul", "sahin", "sahin gul", "ŞAHİN"]),
    ("Thi Lan", "Nguyễn", ["nguyen", "thi lan nguyen", "thilan", "lan"]),
    ("Antonín", "Dvořák", ["antonin dvorak", "dvorak", "Dvořák"]),
    ("Ionuț", "Bogdănescu", ["ionut", "bogdanescu", "ionuț bogdănescu"]),
    ("Ælfric", "Straße", ["aelfric", "strasse", "STRASSE"]),
    ("İpek", "Yıldız", ["ipek", "yildiz", "ipek yildiz"]),
    ("Đorđe", "Đorđević", ["dorde", "dordevic"]),
    ("Mamadou", "N'Diaye", ["ndiaye", "n'diaye", "n’diaye", "mamadou ndi"]),
    ("Marleen", "Van den Broeck", ["van den broeck", "vandenbroeck", "broeck marleen"]),
    ("Jean-Baptiste", "Mukendi", ["jean baptiste", "jean-baptiste", "jeanbaptiste", "baptiste"]),
]
PER_PERSON = [
    pytest.param(first, last, typed, id=fold(f"{first} {last}")) for first, last, typed in PEOPLE
]


@pytest.fixture
def organisation(app):  # type: ignore[no-untyped-def]
    return make_organisation()


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def shown(first: str, last: str) -> str:
    """A name as the page writes it (N'Diaye is N&#39;Diaye in the HTML)."""
    return str(escape(f"{first} {last}"))


@pytest.mark.parametrize(
    "written, folded",
    [
        ("Çelik", "celik"),
        ("Ayşe", "ayse"),
        ("Lucía", "lucia"),
        ("Wiśniewska", "wisniewska"),
        ("Łukasz", "lukasz"),
        ("Straße", "strasse"),
        ("Søren", "soren"),
        ("Ørsted", "orsted"),
        ("Ğül", "gul"),
        ("Nguyễn", "nguyen"),
        ("Dvořák", "dvorak"),
        ("Şahin", "sahin"),
        ("Ionuț", "ionut"),
        ("Bogdănescu", "bogdanescu"),
        ("Krzyżanowski", "krzyzanowski"),
        ("Ælfric", "aelfric"),
        ("Œuvray", "oeuvray"),
        ("Þórunn", "thorunn"),
        ("Đorđević", "dordevic"),
        ("YILDIZ", "yildiz"),
        ("Yıldız", "yildiz"),
        ("İpek", "ipek"),
        ("N'Diaye", "ndiaye"),
        ("  Van   den  Broeck ", "van den broeck"),
        ("Jean-Baptiste", "jean baptiste"),
        ("50%_off", "50 off"),  # no LIKE wildcard survives
        ("Георгиева", "георгиева"),  # other scripts stay, in lower case
    ],
)
def test_fold_writes_names_as_typed_on_a_phone(written: str, folded: str) -> None:
    assert fold(written) == folded


@pytest.mark.parametrize(
    "stored", ["0470 12 34 56", "+32 470 12 34 56", "0032470123456", "0470/12.34.56"]
)
def test_a_phone_number_is_kept_in_national_and_international_form(stored: str) -> None:
    assert phone_forms(stored) == ["0470123456", "32470123456"]
    for typed in ("0470 12 34 56", "+32470123456", "470123456", "0032 470 12 34 56"):
        (word,) = search_words(typed)
        assert any(word in form for form in phone_forms(stored)), typed


# --- The caseload and the coordinator's view of the team's cases ---------------------------------


@pytest.mark.parametrize("first, last, typed_forms", PER_PERSON)
def test_caseload_finds_a_person_typed_without_accents(
    client, mediator, first: str, last: str, typed_forms: list[str]
) -> None:
    make_case(mediator, make_client(first_name=first, last_name=last, phone=""))
    make_case(mediator, make_client(first_name="Kasia", last_name="Nowak", phone=""))
    client.login(mediator)
    for typed in typed_forms:
        page = html(client.get("/cases/", query_string={"q": typed}, headers=HTMX))
        assert shown(first, last) in page and "Kasia" not in page, typed


def test_coordinator_finds_the_teams_clients_typed_without_accents(
    client, mediator, other_mediator, coordinator
) -> None:
    for i, (first, last, _typed) in enumerate(PEOPLE):
        make_case((mediator, other_mediator)[i % 2], make_client(first_name=first, last_name=last))
    make_case(mediator, make_client(first_name="Kasia", last_name="Nowak", phone=""))
    client.login(coordinator)
    for i, (first, last, typed_forms) in enumerate(PEOPLE):
        owner = (mediator, other_mediator)[i % 2]
        for who in ("all", str(owner.id)):
            page = html(client.get("/cases/", query_string={"q": typed_forms[-1], "who": who}))
            assert shown(first, last) in page and "Kasia" not in page, typed_forms[-1]
            assert f'value="{escape(typed_forms[-1])}"' in page  # the box keeps what was typed


@pytest.mark.parametrize(
    "stored", ["0470 12 34 56", "+32 470 12 34 56", "0470/12.34.56", "0032 470 123 456"]
)
def test_phone_is_found_however_it_was_written_and_typed(
    client, mediator, coordinator, stored: str
) -> None:
    make_case(mediator, make_client(first_name="Ayşe", last_name="Çelik", phone=stored))
    make_case(mediator, make_client(first_name="Kasia", last_name="Nowak", phone="0470 99 88 77"))
    for user, who in ((mediator, "mine"), (coordinator, "all")):
        client.login(user)
        for typed in (
            "0470 12 34 56",
            "0470123456",
            "+32470123456",
            "+32 470 12 34 56",
            "470123456",
        ):
            query = {"q": typed, "who": who}
            page = html(client.get("/cases/", query_string=query, headers=HTMX))
            assert "Ayşe Çelik" in page and "Kasia" not in page, (who, typed)


def test_a_mediator_never_finds_a_colleagues_client(client, mediator, other_mediator) -> None:
    make_case(other_mediator, make_client(first_name="Ayşe", last_name="Çelik"))
    client.login(mediator)
    for typed in ("celik", "0486 11 22 33", "ayse"):
        page = html(client.get("/cases/", query_string={"q": typed, "who": "all"}))
        assert "Geen dossiers gevonden" in page and "Çelik" not in page, typed


def test_a_case_is_found_by_the_reference_of_its_referral(
    client, coordinator, mediator, organisation
) -> None:
    referral = make_referral(organisation, first_name="Şahin", last_name="Öztürk")
    other = make_referral(organisation, first_name="Kasia", last_name="Nowak")
    for r in (referral, other):
        in_db(lambda r=r: models.Referral.get_by_id(r.id).accept(coordinator, mediator, None))
    number = referral.reference.rsplit("-", 1)[1]
    client.login(mediator)
    year = referral.reference.split("-")[1]
    typed_forms = (referral.reference, f"vb {year} {number}", f"{year}-{number}", number)
    for typed in typed_forms:
        page = html(client.get("/cases/", query_string={"q": typed}, headers=HTMX))
        assert "Şahin Öztürk" in page and "Kasia" not in page, typed


# --- The duplicate warning and intake matching -------------------------------------------------


def new_client(first: str, last: str, born: dt.date = BORN) -> dict[str, str]:
    return {
        "first_name": first,
        "last_name": last,
        "birth_date": born.isoformat(),
        "district": "Hoboken",
        "language": "nl",
        "source": "permanentie",
    }


def test_duplicate_warning_sees_the_same_person_typed_without_accents(client, mediator) -> None:
    existing = {
        (first, last): make_case(
            mediator, make_client(first_name=first, last_name=last, birth_date=BORN)
        )
        for first, last, _typed in PEOPLE
    }
    client.login(mediator)
    for (first, last), case in existing.items():
        # Without accents in capitals, and with the names the other way round.
        for typed in ((fold(first).upper(), fold(last)), (fold(last), fold(first))):
            response = client.post("/cases/new", data=new_client(*typed))
            assert response.status_code == 200, typed
            page = html(response)
            assert "Deze cliënt bestaat misschien al" in page, typed
            assert f'href="/cases/{case.id}"' in page, typed
            assert len(re.findall(r'href="/cases/\d+"', page)) == 1  # nobody else
    assert in_db(lambda: models.Client.select().count()) == len(PEOPLE)


def test_duplicate_warning_needs_the_same_birth_date_and_the_whole_name(client, mediator) -> None:
    make_case(mediator, make_client(first_name="Ayşe", last_name="Çelik", birth_date=BORN))
    client.login(mediator)
    for first, last, born in (
        ("Ayse", "Celik", dt.date(1991, 4, 12)),  # another birthday: another person
        ("Ays", "Celik", BORN),  # part of a name is not the same name
        ("Ayse", "Celikkaya", BORN),
    ):
        response = client.post("/cases/new", data=new_client(first, last, born))
        assert response.status_code == 303, (first, last, born)


def test_intake_offers_the_existing_client_written_with_accents(
    client, coordinator, mediator, organisation
) -> None:
    referrals = {}
    for first, last, _typed in PEOPLE:
        existing = make_client(first_name=first, last_name=last, birth_date=BORN)
        make_client(first_name=first, last_name=last, birth_date=dt.date(1991, 4, 12))
        # The referrer's keyboard had no accents, and put the last name first.
        referrals[existing.id] = make_referral(
            organisation, first_name=fold(last).upper(), last_name=fold(first), birth_date=BORN
        )
    client.login(coordinator)
    for client_id, referral in referrals.items():
        page = html(client.get(f"/referrals/{referral.id}"))
        assert "Er is al een cliënt met deze naam en geboortedatum" in page, referral.full_name
        assert f'value="{client_id}"' in page, referral.full_name
        assert page.count("Koppelen aan bestaande cliënt") == 1, referral.full_name
    client_id, referral = next(iter(referrals.items()))
    response = client.post(
        f"/referrals/{referral.id}/accept", data={"mediator": mediator.id, "client": client_id}
    )
    assert response.status_code == 303
    assert in_db(lambda: models.Referral.get_by_id(referral.id).client_id) == client_id


# --- The offer ---------------------------------------------------------------------------------


def test_offer_finds_an_activity_by_its_leader_typed_without_accents(client, mediator) -> None:
    for first, last, _typed in PEOPLE:
        make_activity(title=f"Dansatelier met {first} {last}")
    make_activity(title="Voetbal U13")
    client.login(mediator)
    for first, last, typed_forms in PEOPLE:
        # (A name written without its spaces is for people's names only.)
        for typed in (
            t for t in typed_forms if t not in ("thilan", "vandenbroeck", "jeanbaptiste")
        ):
            page = html(client.get("/activities/", query_string={"q": typed}, headers=HTMX))
            assert f"Dansatelier met {shown(first, last)}" in page, typed
            assert "Voetbal U13" not in page, typed


def test_offer_matches_every_word_in_the_activity_or_its_provider(client, mediator) -> None:
    provider = make_provider(name="Turnkring Hoboken Sint-Bernardus")
    make_activity(provider, title="Kleutergym", description="Spelen, klimmen en tuimelen.")
    make_activity(title="Crèche-café voor ouders", description="Koffie én opvang.", street="Kiel")
    client.login(mediator)
    for typed, found, missing in (
        ("turnkring kleutergym", "Kleutergym", "Crèche"),
        ("HOBOKEN tuimelen", "Kleutergym", "Crèche"),
        ("creche cafe", "Crèche-café", "Kleutergym"),
        ("koffie en opvang", "Crèche-café", "Kleutergym"),
        ("kiel", "Crèche-café", "Kleutergym"),
    ):
        page = html(client.get("/activities/", query_string={"q": typed}))
        assert found in page and missing not in page, typed
    nothing = html(client.get("/activities/", query_string={"q": "kleutergym creche"}))
    assert "Kleutergym" not in nothing and "Crèche-café" not in nothing


def test_renaming_a_provider_is_found_at_once(client, coordinator) -> None:
    provider = make_provider(name="KFC Olympia")
    make_activity(provider, title="Voetbal U13")
    in_db(lambda: models.Provider.update(name="Sporting Lillo").execute())
    client.login(coordinator)
    assert "Voetbal U13" in html(client.get("/activities/?q=lillo"))
    assert "Voetbal U13" not in html(client.get("/activities/?q=olympia"))


# --- Kept up to date: edits, bulk writes, erasure, init-db -------------------------------------


def test_editing_a_client_is_found_by_the_new_name_only(client, mediator) -> None:
    case = make_case(mediator, make_client(first_name="Ayse", last_name="Celik"))
    client.login(mediator)
    page = html(client.get(f"/cases/{case.id}/client"))
    assert "Ayse" in page
    version = in_db(lambda: models.Client.get_by_id(case.client_id).version)
    response = client.post(
        f"/cases/{case.id}/client",
        data={
            "first_name": "Ayşe",
            "last_name": "Şahin",
            "phone": "+32 470 55 44 33",
            "district": "Borgerhout",
            "language": "tr",
            "version": version,
        },
    )
    assert response.status_code == 303, html(response)[:500]
    for typed, found in (("sahin", True), ("celik", False), ("0470554433", True)):
        page = html(client.get("/cases/", query_string={"q": typed}, headers=HTMX))
        assert ("Ayşe Şahin" in page) is found, typed


def test_bulk_inserts_and_updates_keep_the_search_text(app) -> None:
    def write() -> list[str]:
        models.Client.insert_many(
            [
                {"first_name": "Søren", "last_name": "Ørsted"},
                {"first_name": "Ana", "last_name": "X"},
            ]
        ).execute()
        models.Client.insert(
            first_name="Łukasz", last_name="Nowak", phone="0470 12 34 56"
        ).execute()
        models.Client.update(last_name="Popescu").where(models.Client.first_name == "Ana").execute()
        models.Client.bulk_create([models.Client(first_name="Ionuț", last_name="Bogdănescu")])
        rows = list(models.Client.select().where(models.Client.first_name == "Ionuț"))
        rows[0].last_name = "Dvořák"
        models.Client.bulk_update(rows, fields=["last_name"])
        return [c.search_text for c in models.Client.select().order_by(models.Client.id)]

    assert in_db(write) == [
        "| soren orsted | orsted soren |",
        "| ana popescu | popescu ana |",
        "| lukasz nowak | nowak lukasz | 0470123456 32470123456 |",
        "| ionut dvorak | dvorak ionut |",
    ]


def test_the_anonymised_client_is_no_longer_found_by_name_or_phone(
    client, coordinator, mediator, organisation
) -> None:
    referral = make_referral(
        organisation, first_name="Ayşe", last_name="Çelik", phone="0470 12 34 56"
    )
    case = in_db(lambda: models.Referral.get_by_id(referral.id).accept(coordinator, mediator, None))
    in_db(lambda: models.Case.get_by_id(case.id).close("independent", "", "", coordinator))
    person = in_db(lambda: models.Client.get_by_id(case.client_id))
    in_db(lambda: models.anonymise_client(person, coordinator))
    for model in (models.Client, models.Referral):
        texts = in_db(lambda model=model: [r.search_text for r in model.select()])
        assert not any("celik" in t or "ayse" in t or "470123456" in t for t in texts), texts
    client.login(coordinator)
    for typed in ("celik", "ayse", "0470 12 34 56", "470123456"):
        page = html(client.get("/cases/", query_string={"q": typed, "who": "all", "status": "all"}))
        assert "Anoniem" not in page and "Çelik" not in page, typed
    found = html(client.get("/cases/?q=anoniem&status=all&who=all"))
    assert f"Anoniem {person.id}" in found


def test_init_db_fills_the_search_text_where_it_is_missing(app, runner, mediator) -> None:
    make_case(mediator, make_client(first_name="Ayşe", last_name="Çelik"))
    with database.connection_context():
        # Rows written by an older release (or by hand) without a search text.
        database.execute_sql('UPDATE "client" SET "search_text" = NULL')
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert in_db(lambda: models.Client.get().search_text).startswith("| ayse celik |")
    in_db(create_tables)  # and again: idempotent
    assert in_db(lambda: list(models.Case.caseload(mediator, q="celik"))), "found via the index"


def on_postgresql() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def test_each_search_text_has_a_trigram_index(app) -> None:
    with database.connection_context():
        if on_postgresql():
            rows = database.execute_sql(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ("%search_text_trgm",)
            ).fetchall()
        else:
            rows = database.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'"
            ).fetchall()
    suffix = "_search_text_trgm" if on_postgresql() else "_search"
    tables = ("activity", "client", "open_case_search", "provider", "referral")
    assert sorted(r[0] for r in rows) == [f"{table}{suffix}" for table in tables]


def plan_of(query: Any) -> str:
    """The plan the database chooses for a query, as text."""
    sql, params = query.sql()
    explain = "EXPLAIN " if on_postgresql() else "EXPLAIN QUERY PLAN "
    with database.connection_context():
        if on_postgresql():
            database.execute_sql("SET enable_seqscan = off")  # a tiny table: scanning is cheaper
        rows = database.execute_sql(explain + sql, params).fetchall()
        if on_postgresql():
            database.execute_sql("SET enable_seqscan = on")
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def test_the_team_search_reads_the_trigram_index(app, coordinator, mediator) -> None:
    make_case(mediator, make_client(first_name="Ayşe", last_name="Çelik"))
    # (A table of a few rows is scanned whatever its indexes: the plan of the condition alone.)
    condition = matches_all(models.Client, search_words("Çelik ays"))
    plan = in_db(lambda: plan_of(models.Client.select(models.Client.id).where(condition)))
    assert ("client_search_text_trgm" if on_postgresql() else "client_search VIRTUAL TABLE") in plan
    found = in_db(lambda: [c.client.last_name for c in models.Case.caseload(coordinator, q="ays")])
    assert found == ["Çelik"]


def test_the_team_search_among_open_cases_reads_their_own_index(app, coordinator) -> None:
    # The open cases' index holds the team's open cases, not every client of ten years.
    # (The rows it holds decide the answers: see test_init_db_repairs_the_open_cases_index.)
    found = models.OpenCaseSearch.cases_matching("Çelik ays")
    plan = in_db(lambda: plan_of(found))
    if on_postgresql():
        assert "open_case_search_search_text_trgm" in plan
    else:
        assert "open_case_search_search VIRTUAL TABLE" in plan
    if not on_postgresql():  # SQLite's plan does not depend on the rows
        plan = in_db(lambda: plan_of(models.Case.caseload(coordinator, q="Çelik ays")))
        assert "open_case_search_search VIRTUAL TABLE" in plan
        assert "client_search" not in plan


def open_case_rows() -> dict[int, str]:
    """open_case_search as it is."""
    return {r.case_id: r.search_text for r in models.OpenCaseSearch.select()}


def open_case_rows_expected() -> dict[int, str]:
    """open_case_search as it should be, from the cases and clients themselves."""
    return {
        case.id: case.client.search_text
        for case in models.Case.select(models.Case, models.Client)
        .join(models.Client)
        .where(models.Case.status == "open")
    }


def team_finds(coordinator: models.User, q: str, status: str = "open") -> list[str]:
    return in_db(
        lambda: [c.client.first_name for c in models.Case.caseload(coordinator, q=q, status=status)]
    )


def test_the_open_cases_index_follows_every_change(app, coordinator, mediator) -> None:
    ayse = make_client(first_name="Ayşe", last_name="Çelik")
    amina = make_client(first_name="Amina", last_name="Çelik")
    case = make_case(mediator, ayse)
    other = make_case(mediator, amina)

    def check() -> None:
        assert in_db(open_case_rows) == in_db(open_case_rows_expected)

    check()
    assert team_finds(coordinator, "celik") == ["Amina", "Ayşe"]
    # Closed: gone from the open cases' search, still found among every case.
    in_db(lambda: models.Case.get_by_id(case.id).close("stopped", "other", "", coordinator))
    check()
    assert team_finds(coordinator, "celik") == ["Amina"]
    assert team_finds(coordinator, "ayse", status="closed") == ["Ayşe"]
    assert team_finds(coordinator, "celik", status="all") == ["Amina", "Ayşe"]
    # Reopened: back.
    in_db(lambda: models.Case.get_by_id(case.id).reopen(coordinator))
    check()
    assert team_finds(coordinator, "ayse") == ["Ayşe"]
    # Renamed, by a form or a bulk update: found by the new name only.
    with database.connection_context():
        models.Client.update(last_name="Yilmaz").where(models.Client.id == ayse.id).execute()
    check()
    assert team_finds(coordinator, "celik") == ["Amina"]
    assert team_finds(coordinator, "yilmaz ayse") == ["Ayşe"]
    # The case moved to another client (a duplicate merged).
    with database.connection_context():
        models.Case.update(client=amina.id).where(models.Case.id == case.id).execute()
    check()
    assert team_finds(coordinator, "yilmaz") == []
    # The client erased: the name is gone from every index.
    in_db(lambda: models.anonymise_client(models.Client.get_by_id(amina.id), coordinator))
    check()
    assert team_finds(coordinator, "celik") == []
    assert team_finds(coordinator, "amina") == []
    # A case deleted with its client.
    with database.connection_context():
        models.Case.delete().where(models.Case.id == other.id).execute()
    check()
    assert other.id not in in_db(open_case_rows)


def test_a_case_reopened_while_its_client_is_renamed_is_found_by_the_new_name(
    database_url, coordinator, mediator
) -> None:
    # Side by side, the reopening would copy the old name and the renaming would not see the
    # reopened case: the team would find the case by a name the client no longer has.
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time")
    import psycopg

    case = make_case(mediator, make_client(first_name="Ayşe", last_name="Çelik"))
    in_db(lambda: models.Case.get_by_id(case.id).close("stopped", "other", "", coordinator))
    rename = "UPDATE client SET search_text = '| ayse yilmaz |' WHERE id = %s"
    reopen = "UPDATE cases SET status = 'open', closed_at = NULL WHERE id = %s"
    with psycopg.connect(database_url) as one, psycopg.connect(database_url) as other:
        one.execute(rename, (case.client_id,))  # a transaction, not committed yet
        thread = threading.Thread(
            target=lambda: (other.execute(reopen, (case.id,)), other.commit())
        )
        thread.start()
        thread.join(timeout=1)
        one.commit()
        thread.join(timeout=10)
    assert in_db(open_case_rows) == {case.id: "| ayse yilmaz |"}
    assert team_finds(coordinator, "yilmaz") == ["Ayşe"]


def test_init_db_repairs_the_open_cases_index(app, coordinator, mediator) -> None:
    # Rows written before the triggers existed, or by hand: every init-db and upgrade makes
    # the table whole again.
    cases = [
        make_case(mediator, make_client(first_name=f"Elif{i}", last_name="Çelik")) for i in range(3)
    ]
    with database.connection_context():
        models.OpenCaseSearch.delete().where(models.OpenCaseSearch.case == cases[0].id).execute()
        models.OpenCaseSearch.update(search_text="| oud |").where(
            models.OpenCaseSearch.case == cases[1].id
        ).execute()
        models.Case.update(status="closed").where(models.Case.id == cases[2].id).execute()
        models.OpenCaseSearch.insert(case=cases[2].id, search_text="| elif2 celik |").execute()
    assert team_finds(coordinator, "celik") == []
    assert team_finds(coordinator, "oud") == ["Elif1"]
    create_tables()
    assert in_db(open_case_rows) == in_db(open_case_rows_expected)
    assert team_finds(coordinator, "celik") == ["Elif0", "Elif1"]
    assert team_finds(coordinator, "oud") == []


def test_a_word_too_short_for_the_index_is_still_found_with_the_others(app, mediator) -> None:
    make_case(mediator, make_client(first_name="Al", last_name="Çelik"))
    make_case(mediator, make_client(first_name="Ayşe", last_name="Çelik"))
    found = in_db(lambda: [c.client.first_name for c in models.Case.caseload(mediator, q="al cel")])
    assert found == ["Al"]
    found = in_db(lambda: [c.client.first_name for c in models.Case.caseload(mediator, q="ay")])
    assert found == ["Ayşe"]


def test_the_index_follows_renames_and_erasure(app, mediator) -> None:
    client = make_client(first_name="Ayşe", last_name="Çelik")
    make_case(mediator, client)
    with database.connection_context():
        models.Client.update(last_name="Yilmaz").where(models.Client.id == client.id).execute()
    assert in_db(lambda: list(models.Case.caseload(mediator, q="celik"))) == []
    assert len(in_db(lambda: list(models.Case.caseload(mediator, q="yilmaz")))) == 1
    with database.connection_context():
        models.Client.delete().where(models.Client.id == client.id).execute()
    assert in_db(lambda: list(models.Case.caseload(mediator, q="yilmaz"))) == []


# --- A fixed number of queries at 10 and 1 000 cases ---------------------------------------------


def many_cases(mediator: models.User, n: int, prefix: str) -> None:
    def insert() -> None:
        with database.atomic():
            models.Client.insert_many(
                [
                    {"first_name": f"Ayşe{prefix}{i}", "last_name": "Çelik", "phone": "0470123456"}
                    for i in range(n)
                ]
            ).execute()
            ids = [
                c.id
                for c in models.Client.select(models.Client.id).where(
                    models.Client.first_name.startswith(f"Ayşe{prefix}")
                )
            ]
            models.Case.insert_many([{"client": i, "mediator": mediator.id} for i in ids]).execute()
            provider = models.Provider.create(name=f"Turnkring Şahin {prefix}")
            models.Activity.insert_many(
                [
                    {"provider": provider.id, "title": f"Kleutergym {i}", "domain": "sport"}
                    for i in range(n)
                ]
            ).execute()

    in_db(insert)


def test_search_runs_the_same_number_of_queries_for_10_and_1010_cases(
    client, mediator, coordinator, organisation
) -> None:
    referral = make_referral(organisation)
    many_cases(mediator, 10, "tien")
    urls = [
        (mediator, "/cases/?q=ayse+celik"),
        (mediator, "/cases/?q=%2B32+470+12+34+56"),
        (mediator, f"/cases/?q={referral.reference}"),
        (coordinator, "/cases/?q=celik&who=all"),
        (mediator, "/activities/?q=sahin+kleutergym"),
        (coordinator, f"/referrals/{referral.id}"),
    ]
    counts: dict[str, list[int]] = {}
    for label in ("10", "1010"):
        if label == "1010":
            many_cases(mediator, 1000, "duizend")
        counts[label] = []
        for user, url in urls:
            client.login(user)
            with count_queries() as statements:
                response = client.get(url, headers=HTMX)
            assert response.status_code == 200, url
            counts[label].append(len(statements))
    assert counts["10"] == counts["1010"], counts


def test_init_db_works_without_the_right_to_create_pg_trgm(app, runner, monkeypatch) -> None:
    if not on_postgresql():
        pytest.skip("pg_trgm is a PostgreSQL extension")
    real = database.obj.execute_sql

    def refused(sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql.startswith("CREATE EXTENSION"):
            raise ProgrammingError("permission denied to create extension")
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", refused)
    assert in_db(lambda: create_search_indexes(database, models.ALL_MODELS)) == []
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    make_client(first_name="Ayşe", last_name="Çelik")
    celik = models.Client.select().where(contains(models.Client.search_text, "celik"))
    assert in_db(celik.count) == 1
