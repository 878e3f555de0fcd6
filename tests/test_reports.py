"""Reports: every figure on a fixture with known counts, CSV safety and masking, signals, access,
and a fixed number of queries whatever the number of cases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from peewee import JOIN

from tests.conftest import HTMX, count_queries, in_db, make_case, make_client
from webapp import models
from webapp.models import database
from webapp.reports import masked, safe_cell
from webapp.timeutil import local_today

YEAR = "start=2025-01-01&end=2025-12-31"


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour)


def case_with(mediator, born, district, opened, position, interests="", **fields):
    client = make_client(
        first_name="Persoon", last_name=uuid.uuid4().hex[:8], birth_date=born, district=district
    )
    case = make_case(mediator, client, interests=interests)
    values = {"opened_at": at(opened), "current_position": position, **fields}
    in_db(lambda: models.Case.update(**values).where(models.Case.id == case.id).execute())
    return case


def refer(case, kind: str) -> None:
    def run() -> None:
        org = models.ReferringOrganisation.create(name=f"Org {kind}", kind=kind)
        models.Referral.submit(
            org,
            idempotency_key=str(uuid.uuid4()),
            referrer_name="R",
            first_name="X",
            last_name="Y",
            case=case.id,
            status="accepted",
        )

    in_db(run)


def threshold(case, key, status, created, signal=False, shareable=False, note=""):
    def run() -> None:
        category = models.ThresholdCategory.get(models.ThresholdCategory.key == key)
        models.CaseThreshold.create(
            case=case,
            category=category,
            status=status,
            created_at=at(created),
            signal=signal,
            note_shareable=shareable,
            note=note,
        )

    in_db(run)


@pytest.fixture
def network(app, mediator, other_mediator):
    """Six cases, of which four ran in 2025 (A, B, C, E), with exact known figures."""
    a = case_with(mediator, dt.date(2015, 6, 1), "Borgerhout", "2025-01-15", 2, "sport")
    b = case_with(
        mediator,
        dt.date(2010, 1, 1),
        "Deurne",
        "2025-02-10",
        9,
        "sport,cultuur",
        source="permanentie",
        status="closed",
        closed_at=at("2025-03-20"),
        outcome="independent",
    )
    c = case_with(other_mediator, dt.date(1950, 5, 5), "Borgerhout", "2024-11-01", 5)
    d = case_with(
        other_mediator,
        None,
        "",
        "2024-06-01",
        9,
        "jeugd",
        status="closed",
        closed_at=at("2024-12-01"),
        outcome="unreachable",
    )
    e = case_with(
        mediator,
        dt.date(2000, 3, 3),
        "Deurne",
        "2025-03-05",
        9,
        source="zelf",
        status="closed",
        closed_at=at("2025-03-06"),
        outcome="stopped",
    )
    case_with(other_mediator, dt.date(2001, 1, 1), "Hoboken", "2026-01-10", 1)
    refer(a, "caw")
    refer(c, "ocmw")

    def offer() -> None:
        provider = models.Provider.create(name="KFC Borgerhout")
        sport = models.Activity.create(provider=provider, title="Voetbal U11", domain="sport")
        culture = models.Activity.create(provider=provider, title="Tekenles", domain="cultuur")
        enrol_a = models.Enrolment.create(case=a, activity=sport)
        enrol_b = models.Enrolment.create(case=b, activity=culture)
        for day, attendance in [
            ("2025-02-01", "present"),
            ("2025-02-08", "present"),
            ("2025-02-15", "present"),
            ("2025-02-22", "absent"),
            ("2025-03-01", ""),
            ("2024-12-01", "present"),
        ]:
            models.Session.create(enrolment=enrol_a, starts_at=at(day), attendance=attendance)
        models.Session.create(enrolment=enrol_b, starts_at=at("2025-02-12"), attendance="present")
        for case, kind, day, minutes, planned in [
            (a, "huisbezoek", "2025-01-20", 60, False),
            (b, "huisbezoek", "2025-02-11", 30, False),
            (b, "telefonisch", "2025-02-12", 30, False),
            (a, "huisbezoek", "2025-12-20", 45, True),
            (c, "telefonisch", "2024-11-02", 10, False),
        ]:
            models.Visit.create(
                case=case,
                mediator=case.mediator_id,
                contact_type=kind,
                occurred_at=at(day),
                duration_minutes=minutes,
                planned=planned,
                idempotency_key=str(uuid.uuid4()),
            )

    in_db(offer)
    threshold(
        a,
        "financieel",
        "open",
        "2025-03-03",
        signal=True,
        shareable=True,
        note="Clubgeld €240 te duur",
    )
    threshold(a, "taal", "resolved", "2025-03-04")
    threshold(c, "mobiliteit", "open", "2025-05-05", signal=True, note="Naam in de notitie")
    threshold(b, "financieel", "unsolvable", "2025-02-20")
    threshold(d, "sociaal", "open", "2024-07-01", signal=True, shareable=True, note="oud")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def figures(client, query=YEAR) -> dict[str, dict[str, list]]:
    """The report page read back: table key → row label → cell texts."""
    import re

    page = client.get(f"/reports/?{query}").get_data(as_text=True)
    out: dict[str, dict[str, list]] = {}
    for key, body in re.findall(r'<h2 id="fig-([a-z]+)">.*?<tbody>(.*?)</tbody>', page, re.DOTALL):
        rows = {}
        for label, cells in re.findall(
            r'<th scope="row">(.*?)</th>(.*?)<td class="chart-col">', body, re.DOTALL
        ):
            rows[label] = re.findall(r'<td class="num">(.*?)</td>', cells)
        out[key] = rows
    return out


def test_every_figure_has_the_known_counts(client, coordinator, network) -> None:
    client.login(coordinator)
    f = figures(client)
    months = f["maanden"]
    assert months["jan 2025"] == ["1", "2"]
    assert months["feb 2025"] == ["1", "3"]
    assert months["mrt 2025"] == ["1", "4"]
    assert months["apr 2025"] == ["0", "2"]
    assert months["dec 2025"] == ["0", "2"] and len(months) == 12
    assert f["diensten"]["OCMW"] == ["3"] and f["diensten"]["Sporting A"] == ["1"]
    assert f["diensten"]["Cultuur"] == ["0"]
    referrers = f["doorverwijzers"]
    assert referrers["CAW"] == ["1"] and referrers["OCMW sociaal centrum"] == ["1"]
    assert referrers["permanentie"] == ["1"] and referrers["zelf aangemeld"] == ["1"]
    assert referrers["Atlas"] == ["0"]
    assert f["districten"]["Borgerhout"] == ["2"] and f["districten"]["Deurne"] == ["2"]
    assert f["districten"]["Hoboken"] == ["0"]
    ages = f["leeftijden"]
    assert [ages[g][0] for g in ("0–5", "6–11", "12–17", "18–25", "26–64", "65+", "onbekend")] == [
        "0",
        "1",
        "1",
        "1",
        "0",
        "1",
        "0",
    ]
    assert f["domeinen"] == {
        "sport": ["2"],
        "cultuur": ["1"],
        "jeugd": ["0"],
        "nog geen domein": ["2"],
    }
    steps = [v[0] for v in f["stappen"].values()]
    assert steps == ["4", "4", "3", "3", "3", "2", "2", "2", "2"]
    assert next(iter(f["stappen"])) == "1. Aanmelding"
    assert f["afloop"]["neemt zelfstandig deel"] == ["1"] and f["afloop"]["gestopt"] == ["1"]
    assert f["afloop"]["onbereikbaar"] == ["0"]
    assert f["aanwezigheid"]["sport"] == ["3", "1", "1", "75 %"]
    assert f["aanwezigheid"]["cultuur"] == ["1", "0", "0", "100 %"]
    assert f["aanwezigheid"]["jeugd"] == ["0", "0", "0", "–"]
    assert f["contacten"]["huisbezoek"] == ["2", "1,5"]
    assert f["contacten"]["telefonisch"] == ["1", "0,5"]
    assert f["contacten"]["permanentie"] == ["0", "0"]
    assert f["drempels"]["financieel"] == ["1", "0", "1", "1"]
    assert f["drempels"]["taal"] == ["0", "1", "0", "0"]
    assert f["drempels"]["mobiliteit"] == ["1", "0", "0", "1"]
    assert f["drempels"]["sociaal"] == ["0", "0", "0", "0"]


def counted_from_the_rows(start: dt.date, end: dt.date) -> dict[str, dict[str, list[str]]]:
    """Some figures of the period counted again in Python from every raw row, without SQL
    aggregates: what the report's queries (and their indexes) must always agree with."""
    from webapp.reports.figures import AGE_GROUPS, Period, age_group

    period = Period(start, end)
    lo, hi = period.start_utc, period.end_utc

    def count(labels, values) -> dict[str, list[str]]:
        return {str(label): [str(sum(1 for v in values if v == key))] for key, label in labels}

    def run() -> dict[str, dict[str, list[str]]]:
        cases = [
            c
            for c in models.Case.select(models.Case, models.Client, models.User)
            .join(models.Client)
            .switch(models.Case)
            .join(models.User)
            if c.opened_at < hi and (c.closed_at is None or c.closed_at >= lo)
        ]
        visits = [
            v
            for v in models.Visit.select()
            if not v.planned and v.removed_at is None and lo <= v.occurred_at < hi
        ]
        contacts = {}
        for key, label in models.CONTACT_TYPES.items():
            mine = [v for v in visits if v.contact_type == key]
            hours = sum(v.duration_minutes for v in mine) / 60
            contacts[str(label)] = [str(len(mine)), f"{round(hours, 1):g}".replace(".", ",")]
        closed = [c for c in cases if c.closed_at is not None and c.closed_at < hi]
        return {
            "diensten": count(models.SERVICES.items(), [c.mediator.service for c in cases]),
            "districten": count(
                [(d, d) for d in ("Borgerhout", "Deurne", "Hoboken")],
                [c.client.district for c in cases],
            ),
            "leeftijden": count(
                [(g[0], g[0]) for g in AGE_GROUPS],
                [age_group(c.client.birth_date, end) for c in cases],
            ),
            "afloop": count(models.OUTCOMES.items(), [c.outcome for c in closed]),
            "contacten": contacts,
            "stappen_1": {"1": [str(len(cases))]},
        }

    return in_db(run)


def test_the_figures_equal_a_count_of_the_raw_rows_after_changes(
    client, coordinator, network, other_mediator
) -> None:
    """After a corrected contact, a removed one, an erased client and a reassigned case, the
    report still says what counting every row says."""
    a, b, e = network["a"], network["b"], network["e"]

    def change() -> None:
        first = models.Visit.get(models.Visit.case == a.id, models.Visit.planned == False)  # noqa: E712
        models.Visit.update(removed_at=at("2025-06-01"), removed_reason="dubbel").where(
            models.Visit.id == first.id
        ).execute()
        models.Visit.update(contact_type="huisbezoek", duration_minutes=45).where(
            models.Visit.case == b.id, models.Visit.contact_type == "telefonisch"
        ).execute()
        models.Case.update(mediator=other_mediator.id).where(models.Case.id == a.id).execute()
        assert models.anonymise_client(models.Client.get_by_id(e.client_id), coordinator)

    in_db(change)
    client.login(coordinator)
    shown = figures(client)
    expected = counted_from_the_rows(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    for key in ("diensten", "districten", "leeftijden", "afloop", "contacten"):
        for label, cells in expected[key].items():
            assert shown[key][label] == cells, (key, label)
    assert next(iter(shown["stappen"].values())) == expected["stappen_1"]["1"]
    # What changed, as a person reads it: the removed visit no longer counts, the corrected
    # one counts as a home visit, the reassigned case counts for Tom's service.
    assert shown["contacten"]["huisbezoek"] == ["2", "1,2"]  # 30 + 45 minutes
    assert shown["contacten"]["telefonisch"] == ["0", "0"]
    assert shown["diensten"]["Sporting A"] == ["2"] and shown["diensten"]["OCMW"] == ["2"]


def test_reports_hold_no_names(client, mediator, network) -> None:
    client.login(mediator)
    page = client.get(f"/reports/?{YEAR}").get_data(as_text=True)
    names = in_db(lambda: [c.last_name for c in models.Client.select()])
    assert names and not any(name in page for name in names)
    assert "Sara El Amrani" not in page.split("</header>", 1)[1]


def test_the_period_defaults_to_this_year_and_swaps_as_a_fragment(client, coordinator) -> None:
    client.login(coordinator)
    page = client.get("/reports/").get_data(as_text=True)
    year = local_today().year
    assert f'value="{year}-01-01"' in page and "<html" in page
    fragment = client.get(f"/reports/?{YEAR}", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="report"' in body
    assert 'value="2025-12-31"' in body and "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2025-02-30", "Dit is geen datum."),
        ("start=2025-06-01&end=2025-01-01", "Het einde ligt voor het begin."),
        ("start=2020-01-01&end=2025-01-01", "hoogstens 36 maanden"),
        ("start=1066-10-14", "Deze datum kan niet kloppen."),
    ],
)
def test_a_bad_period_is_explained_next_to_the_field(client, coordinator, query, message):
    client.login(coordinator)
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_export_masks_small_counts(client, coordinator, network) -> None:
    client.login(coordinator)
    response = client.get(f"/reports/export/diensten.csv?{YEAR}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["Dienst", "Dossiers"]
    assert ["OCMW", "<5"] in rows and ["Sporting A", "<5"] in rows and ["Jeugddienst", "0"] in rows
    attendance = read_csv(client.get(f"/reports/export/aanwezigheid.csv?{YEAR}"))
    assert ["sport", "<5", "<5", "<5", "<5"] in attendance
    contacts = read_csv(client.get(f"/reports/export/contacten.csv?{YEAR}"))
    assert ["huisbezoek", "<5", "1,5"] in contacts  # hours are no count of people
    assert client.get(f"/reports/export/nothing.csv?{YEAR}").status_code == 404
    assert client.get("/reports/export/diensten.csv?start=nonsense").status_code == 400


def test_download_all_is_a_zip_of_the_same_masked_csvs(client, coordinator, network) -> None:
    import zipfile

    client.login(coordinator)
    page = client.get(f"/reports/?{YEAR}").get_data(as_text=True)
    assert "/reports/export/alles.zip?start=2025-01-01&amp;end=2025-12-31" in page
    response = client.get(f"/reports/export/alles.zip?{YEAR}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert (
        'filename="vrijbaan-cijfers-2025-01-01-2025-12-31.zip"'
        in (response.headers["Content-Disposition"])
    )
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert "vrijbaan-diensten-2025-01-01-2025-12-31.csv" in names
    assert "vrijbaan-signalen-2025-01-01-2025-12-31.csv" in names
    for name in names:
        key = name.split("-")[1]
        single = "signals.csv" if key == "signalen" else f"export/{key}.csv"
        alone = client.get(f"/reports/{single}?{YEAR}").get_data(as_text=True)
        assert archive.read(name).decode("utf-8") == alone, name
    assert "OCMW;<5" in archive.read("vrijbaan-diensten-2025-01-01-2025-12-31.csv").decode()
    assert client.get("/reports/export/alles.zip?start=nonsense").status_code == 400


def test_larger_counts_are_exported_as_they_are(client, coordinator, mediator) -> None:
    for _ in range(6):
        make_case(mediator)
    client.login(coordinator)
    rows = read_csv(client.get("/reports/export/diensten.csv"))
    assert ["OCMW", "6"] in rows


def test_masking_and_formula_escaping_rules() -> None:
    assert [masked(n, "count", None) for n in (0, 1, 4, 5)] == [0, "<5", "<5", 5]
    assert masked(3, "number", None) == 3
    assert masked(100, "percent", 2) == "<5" and masked(60, "percent", 5) == 60
    for dangerous in ("=1+1", "+31", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Borgerhout") == "Borgerhout" and safe_cell(None) == ""


def test_signals_are_anonymised_with_only_shareable_notes(client, mediator, network) -> None:
    client.login(mediator)
    page = client.get(f"/reports/signals?{YEAR}").get_data(as_text=True)
    assert "Clubgeld €240 te duur" in page
    assert "Naam in de notitie" not in page and "oud" not in page.split('id="report"')[1]
    assert "2 signalen" in page
    rows = read_csv(client.get(f"/reports/signals.csv?{YEAR}"))
    assert rows[0] == ["Maand", "Drempel", "District", "Leeftijd", "Domein", "Stand", "Notitie"]
    assert rows[1] == [
        "mrt 2025",
        "financieel",
        "Borgerhout",
        "6–11",
        "sport",
        "open",
        "Clubgeld €240 te duur",
    ]
    assert rows[2] == ["mei 2025", "mobiliteit", "Borgerhout", "65+", "", "open", ""]
    assert len(rows) == 3
    fragment = client.get(f"/reports/signals?{YEAR}", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and "Clubgeld" in fragment


def test_a_year_of_many_signals_shows_the_first_ones_and_counts_them_all(
    client, coordinator, network
) -> None:
    from webapp.reports import SIGNALS_ON_PAGE

    extra = SIGNALS_ON_PAGE + 1
    for day in range(extra):  # on top of the network's 2 signals of 2025
        created = (dt.date(2025, 7, 1) + dt.timedelta(days=day)).isoformat()
        threshold(network["a"], "sociaal", "open", created, signal=True)
    client.login(coordinator)
    page = client.get(f"/reports/signals?{YEAR}").get_data(as_text=True)
    assert f"{extra + 2} signalen" in page
    assert page.count("<tr><td>") == SIGNALS_ON_PAGE
    assert "mrt 2025" in page  # the oldest first
    assert f"De eerste {SIGNALS_ON_PAGE}; alle signalen staan in de CSV." in page
    assert len(read_csv(client.get(f"/reports/signals.csv?{YEAR}"))) == 1 + extra + 2


def test_signal_notes_cannot_become_formulas(client, coordinator, network) -> None:
    threshold(
        network["a"],
        "sociaal",
        "open",
        "2025-06-01",
        signal=True,
        shareable=True,
        note='=HYPERLINK("http://evil.test","klik")',
    )
    client.login(coordinator)
    rows = read_csv(client.get(f"/reports/signals.csv?{YEAR}"))
    assert rows[-1][-1] == '\'=HYPERLINK("http://evil.test","klik")'


def bulk_cases(mediator, n: int) -> None:
    def run() -> None:
        client = models.Client.create(first_name="Bulk", last_name="Client")
        now = dt.datetime(2025, 5, 1)  # noqa: DTZ001  (stored naive, as UTC)
        rows = [
            {
                "client": client.id,
                "mediator": mediator.id,
                "opened_at": now,
                "updated_at": now,
                "interests": "sport",
                "current_position": 1 + i % 9,
            }
            for i in range(n)
        ]
        with database.atomic():
            for start in range(0, n, 200):
                models.Case.insert_many(rows[start : start + 200]).execute()

    in_db(run)


def test_the_report_page_runs_a_fixed_number_of_queries(client, coordinator) -> None:
    """Once what changed is counted (after each writing request, or by cron), the page reads
    the same few rows of counts whatever the number of cases."""
    client.login(coordinator)
    bulk_cases(coordinator, 10)
    in_db(models.catch_up)
    with count_queries() as few:
        assert client.get(f"/reports/?{YEAR}").status_code == 200
    bulk_cases(coordinator, 990)
    in_db(models.catch_up)
    with count_queries() as many:
        page = client.get(f"/reports/?{YEAR}").get_data(as_text=True)
    assert len(few) == len(many) <= 20
    assert '<th scope="row">OCMW</th>\n<td class="num">1000</td>' in page.replace("  ", "")


def test_the_page_counts_what_changed_since_it_was_last_counted(client, coordinator) -> None:
    """Rows written behind the app's back (a script, a bulk insert) count at the next look."""
    client.login(coordinator)
    bulk_cases(coordinator, 3)
    assert in_db(lambda: models.ReportDirty.select().count()) > 0
    page = client.get(f"/reports/?{YEAR}").get_data(as_text=True)
    assert '<th scope="row">OCMW</th>\n<td class="num">3</td>' in page.replace("  ", "")
    assert in_db(lambda: models.ReportDirty.select().count()) == 0


def test_months_read_in_the_language_of_the_screen(app) -> None:
    from flask_babel import force_locale

    from webapp.reports.figures import month_label

    with app.test_request_context():
        with force_locale("nl"):
            assert month_label(dt.date(2026, 1, 1)) == "jan 2026"
        with force_locale("en"):
            assert month_label(dt.date(2026, 3, 1)) == "Mar 2026"


def test_the_figures_tab_is_named_for_what_it_holds(client, mediator, coordinator) -> None:
    client.login(mediator)
    tabbar = client.get("/").get_data(as_text=True).split('class="tabbar"')[1]
    assert "Cijfers</a>" in tabbar and "Team</a>" not in tabbar
    assert "<svg" in tabbar and "▦" not in tabbar  # icons of our own, not text symbols
    client.login(coordinator)
    tabbar = client.get("/").get_data(as_text=True).split('class="tabbar"')[1]
    assert "Team</a>" in tabbar  # a coordinator also finds the team's pages there


# --- The kept counts against the raw rows -------------------------------------------------------


def raw_tables(start: dt.date, end: dt.date, today: dt.date) -> dict[str, dict[str, list]]:
    """Every table of the report counted again in Python from the raw rows, with no kept count
    and no SQL aggregate: table key → row label → values, as the page's Table rows hold them."""
    from webapp.models import DISTRICTS
    from webapp.reports.figures import AGE_GROUPS, Period, age_group
    from webapp.timeutil import to_local

    period = Period.whole_months(start, end)

    def local(moment: dt.datetime) -> dt.date:
        return to_local(moment).date()

    def run() -> dict[str, dict[str, list]]:
        cases = list(
            models.Case.select(models.Case, models.Client, models.User)
            .join(models.Client)
            .switch(models.Case)
            .join(models.User)
        )
        ran = [
            c
            for c in cases
            if local(c.opened_at) <= period.end
            and (c.closed_at is None or local(c.closed_at) >= period.start)
        ]
        referrals = list(
            models.Referral.select(models.Referral, models.ReferringOrganisation).join(
                models.ReferringOrganisation, JOIN.LEFT_OUTER
            )
        )

        def table(labels: dict[str, str], values: list[str], rest: str | None) -> dict:
            rows = {
                str(label): [sum(1 for v in values if v == key)] for key, label in labels.items()
            }
            others = sum(1 for v in values if v not in labels)
            if rest and others:
                rows[rest] = [others]
            return rows

        months = {}
        for month in period.months():
            following = (month + dt.timedelta(days=32)).replace(day=1)
            new = sum(1 for c in cases if local(c.opened_at).replace(day=1) == month)
            running = sum(
                1
                for c in cases
                if local(c.opened_at) < following
                and (c.closed_at is None or local(c.closed_at) >= month)
            )
            from webapp.reports.figures import month_label

            months[month_label(month)] = [new, running]
        kinds = []
        for c in ran:
            mine = {
                r.organisation.kind if r.organisation_id else None
                for r in referrals
                if r.case_id == c.id
            }
            kinds += sorted({k or c.source for k in mine} or {c.source})
        referrer_labels = {**models.ORGANISATION_KINDS}
        referrer_labels["doorverwijzing"] = "doorverwijzing zonder formulier"
        referrer_labels.update(
            {k: v for k, v in models.CASE_SOURCES.items() if k != "doorverwijzing"}
        )
        ages = [age_group(c.client.birth_date, period.end) for c in ran]
        domains = {}
        for key, label in models.DOMAINS.items():
            domains[str(label)] = [sum(1 for c in ran if key in c.interests.split(","))]
        domains["nog geen domein"] = [sum(1 for c in ran if not c.interests)]
        steps = {
            f"{s.position}. {s.display_label}": [
                sum(1 for c in ran if c.current_position >= s.position)
            ]
            for s in models.StepDefinition.ordered()
        }
        closed = [
            c.outcome
            for c in cases
            if c.closed_at is not None and period.start <= local(c.closed_at) <= period.end
        ]
        sessions = [
            (s.enrolment.activity.domain, s.attendance)
            for s in models.Session.select(models.Session, models.Enrolment, models.Activity)
            .join(models.Enrolment)
            .join(models.Activity)
            if period.start <= local(s.starts_at) <= min(period.end, today)
        ]
        attendance = {}
        for key, label in models.DOMAINS.items():
            present, absent, unknown = (
                sum(1 for d, a in sessions if d == key and a == value)
                for value in ("present", "absent", "")
            )
            told = present + absent
            attendance[str(label)] = [
                present,
                absent,
                unknown,
                round(100 * present / told) if told else None,
            ]
        visits = [
            v
            for v in models.Visit.select()
            if not v.planned
            and v.removed_at is None
            and period.start <= local(v.occurred_at) <= period.end
        ]
        contacts = {}
        for key, label in models.CONTACT_TYPES.items():
            mine = [v for v in visits if v.contact_type == key]
            minutes = sum(v.duration_minutes or 0 for v in mine)
            contacts[str(label)] = [len(mine), round(minutes / 60, 1) if minutes else 0]
        noted = [
            t
            for t in models.CaseThreshold.select()
            if period.start <= local(t.created_at) <= period.end
        ]
        thresholds = {}
        for category in models.ThresholdCategory.select().order_by(
            models.ThresholdCategory.position
        ):
            mine = [t for t in noted if t.category_id == category.id]
            thresholds[category.display_label] = [
                sum(1 for t in mine if t.status == "open"),
                sum(1 for t in mine if t.status == "resolved"),
                sum(1 for t in mine if t.status == "unsolvable"),
                sum(1 for t in mine if t.signal),
            ]
        return {
            "maanden": months,
            "diensten": table(models.SERVICES, [c.mediator.service for c in ran], "andere"),
            "doorverwijzers": table(referrer_labels, kinds, "andere"),
            "districten": table(
                {d: d for d in DISTRICTS},
                [c.client.district for c in ran],
                "buiten Antwerpen of onbekend",
            ),
            "leeftijden": {
                label: [ages.count(label)] for label in [g[0] for g in AGE_GROUPS] + ["onbekend"]
            },
            "domeinen": domains,
            "stappen": steps,
            "afloop": table(models.OUTCOMES, [o or "" for o in closed], "niet ingevuld"),
            "aanwezigheid": attendance,
            "contacten": contacts,
            "drempels": thresholds,
        }

    return in_db(run)


def kept_tables(start: dt.date, end: dt.date, today: dt.date) -> dict[str, dict[str, list]]:
    from webapp.models import DISTRICTS
    from webapp.reports.figures import Period, all_tables

    period = Period.whole_months(start, end)
    tables = in_db(lambda: all_tables(period, today, DISTRICTS))
    return {t.key: {r.label: list(r.values) for r in t.rows} for t in tables}


PERIODS = [
    (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),  # a year
    (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),  # a month
    (dt.date(2024, 6, 15), dt.date(2025, 2, 3)),  # days inside months: whole months
    (dt.date(2024, 1, 1), dt.date(2026, 12, 31)),  # three years, into the future
]


# Today at the end of a month, and in the middle of one with sessions on both sides of it.
TODAYS = [dt.date(2025, 6, 30), dt.date(2025, 2, 10)]


def assert_kept_equals_raw() -> None:
    for today in TODAYS:
        for start, end in PERIODS:
            kept, raw = kept_tables(start, end, today), raw_tables(start, end, today)
            for key, rows in raw.items():
                assert kept[key] == rows, (today, start, end, key)


def test_the_kept_counts_equal_the_raw_rows_after_every_kind_of_change(
    app, coordinator, mediator, other_mediator, network
) -> None:
    """Changes made the ways the app and a script make them: forms' saves, bulk updates,
    deletes and their cascades, a moved referral, a renamed district, a mediator's service, a
    referring organisation's kind, an activity's domain; after each, every table of every
    period equals a count of the raw rows."""
    a, b, c, e = network["a"], network["b"], network["c"], network["e"]
    assert_kept_equals_raw()

    def step(change) -> None:
        in_db(change)
        assert_kept_equals_raw()

    # A contact recorded at a quarter past midnight on 1 April, Brussels time: still 31 March
    # in UTC, counted in April.
    step(
        lambda: models.Visit.create(
            case=a.id,
            mediator=a.mediator_id,
            contact_type="telefonisch",
            occurred_at=dt.datetime(2025, 3, 31, 22, 15),  # noqa: DTZ001 (UTC)
            duration_minutes=20,
            idempotency_key=str(uuid.uuid4()),
        )
    )
    step(
        lambda: models.Visit.update(duration_minutes=90).where(models.Visit.case == b.id).execute()
    )
    step(lambda: models.Visit.update(planned=False).where(models.Visit.case == a.id).execute())

    def save_a_case() -> None:  # a form's save of a loaded row
        case = models.Case.get_by_id(c.id)
        case.interests, case.current_position = "cultuur,jeugd", 7
        case.save()

    step(save_a_case)
    step(
        lambda: (
            models.Case.update(status="closed", closed_at=at("2025-04-02"), outcome="independent")
            .where(models.Case.id == a.id)
            .execute()
        )
    )
    step(
        lambda: (
            models.Case.update(closed_at=None, status="open")
            .where(models.Case.id == a.id)
            .execute()
        )
    )
    step(
        lambda: (
            models.Client.update(district="Deurne", birth_date=dt.date(2019, 1, 1))
            .where(models.Client.id == c.client_id)
            .execute()
        )
    )
    step(
        lambda: models.User.update(service="cultuur").where(models.User.id == mediator.id).execute()
    )
    step(
        lambda: (
            models.Case.update(mediator=other_mediator.id).where(models.Case.id == b.id).execute()
        )
    )

    def move_a_referral() -> None:
        referral = models.Referral.get(models.Referral.case == a.id)
        referral.case = e.id
        referral.save()

    step(move_a_referral)
    step(
        lambda: (
            models.ReferringOrganisation.update(kind="school")
            .where(models.ReferringOrganisation.kind == "ocmw")
            .execute()
        )
    )
    step(
        lambda: (
            models.Activity.update(domain="jeugd")
            .where(models.Activity.domain == "sport")
            .execute()
        )
    )
    step(
        lambda: (
            models.Session.update(attendance="absent")
            .where(models.Session.attendance == "")
            .execute()
        )
    )
    step(
        lambda: (
            models.CaseThreshold.update(status="resolved", signal=False)
            .where(models.CaseThreshold.status == "open")
            .execute()
        )
    )
    step(lambda: models.Session.delete().where(models.Session.attendance == "absent").execute())
    # A case deleted with everything under it (the database's cascade deletes its contacts,
    # thresholds, enrolments and sessions: the triggers see those too).
    step(lambda: models.Case.delete().where(models.Case.id == b.id).execute())
    step(lambda: models.anonymise_client(models.Client.get_by_id(e.client_id), coordinator))


def test_counting_again_from_nothing_gives_the_same_counts(app, network) -> None:
    before = kept_tables(dt.date(2024, 1, 1), dt.date(2026, 12, 31), dt.date(2025, 6, 30))
    assert in_db(models.recount) > 0
    after = kept_tables(dt.date(2024, 1, 1), dt.date(2026, 12, 31), dt.date(2025, 6, 30))
    assert after == before
    assert_kept_equals_raw()


def test_two_catch_ups_at_once_count_each_change_once(app, network) -> None:
    """Two servers (or a cron run and a request) catching up at the same moment: the second
    waits for the first, then finds nothing left to count."""
    import threading

    def change() -> None:
        models.Visit.update(duration_minutes=15).execute()
        models.Case.update(current_position=3).execute()

    in_db(change)
    barrier = threading.Barrier(2)
    taken: list[int] = []

    def run() -> None:
        barrier.wait()
        taken.append(in_db(models.catch_up))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert min(taken) == 0 and max(taken) > 0
    assert_kept_equals_raw()


def test_a_failing_count_after_a_request_does_not_fail_the_request(
    client, coordinator, monkeypatch
) -> None:
    """The change a person made is saved before the counting starts: when counting fails (the
    database refuses), they still get their page, and the marks wait for the next count."""
    import peewee

    import webapp.reports

    def refused(**_kwargs: object) -> int:
        raise peewee.OperationalError("database is locked")

    client.login(coordinator)
    monkeypatch.setattr(webapp.reports, "catch_up", refused)
    response = client.post("/cases/new", data={})  # any writing request: here an invalid form
    assert response.status_code == 422
    bulk_cases(coordinator, 2)
    monkeypatch.undo()
    page = client.get(f"/reports/?{YEAR}").get_data(as_text=True)
    assert '<th scope="row">OCMW</th>\n<td class="num">2</td>' in page.replace("  ", "")
