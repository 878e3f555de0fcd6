"""The network's figures: aggregate queries over a period, one query per figure, no names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from peewee import JOIN, SQL, NodeList, Select, Value, fn
from peewee import Case as SQLCase

from webapp.models import (
    CASE_SOURCES,
    CONTACT_TYPES,
    DOMAINS,
    ORGANISATION_KINDS,
    OUTCOMES,
    SERVICES,
    THRESHOLD_STATUSES,
    Activity,
    Case,
    CaseThreshold,
    Client,
    Enrolment,
    Referral,
    ReferringOrganisation,
    Session,
    StepDefinition,
    ThresholdCategory,
    User,
    Visit,
    threshold_category_label,
)
from webapp.timeutil import to_local, to_utc

# Ages at the end of the period: (label, youngest, oldest); None means no bound.
AGE_GROUPS = [
    ("0–5", 0, 5),
    ("6–11", 6, 11),
    ("12–17", 12, 17),
    ("18–25", 18, 25),
    ("26–64", 26, 64),
    ("65+", 65, None),
]
MAX_MONTHS = 36
SMALL = 5  # counts of people below this are masked in exports


@dataclass
class Column:
    label: str
    kind: str = "count"  # count (of people, masked when small) | number | percent
    bar: bool = False


@dataclass
class Row:
    label: str
    values: list[float | int | None]
    basis: int | None = None  # how many people a percentage rests on


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    note: str = ""

    @property
    def bar_columns(self) -> list[int]:
        return [i for i, c in enumerate(self.columns[1:]) if c.bar]

    @property
    def scale(self) -> float:
        values = [r.values[i] or 0 for r in self.rows for i in self.bar_columns]
        return max([*values, 1])

    @property
    def is_empty(self) -> bool:
        return not any(v for r in self.rows for v in r.values)


def month_label(day: dt.date) -> str:
    """A month as people read it, in the language of the screen: 'jan 2026', 'Jan 2026'."""
    return format_skeleton("yMMM", day, locale=get_locale() or "nl")


@dataclass
class Period:
    start: dt.date  # first day, Brussels
    end: dt.date  # last day, inclusive

    @property
    def start_utc(self) -> dt.datetime:
        return to_utc(dt.datetime.combine(self.start, dt.time()))

    @property
    def end_utc(self) -> dt.datetime:
        return to_utc(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()))

    def months(self) -> list[tuple[str, dt.datetime, dt.datetime]]:
        """(label 'jan 2026', UTC start, UTC end) of each calendar month the period touches."""
        out = []
        first = self.start.replace(day=1)
        while first <= self.end:
            following = (first + dt.timedelta(days=32)).replace(day=1)
            lo, hi = max(first, self.start), min(following - dt.timedelta(days=1), self.end)
            out.append(
                (
                    month_label(first),
                    to_utc(dt.datetime.combine(lo, dt.time())),
                    to_utc(dt.datetime.combine(hi + dt.timedelta(days=1), dt.time())),
                )
            )
            first = following
        return out


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_group(birth_date: dt.date | None, on: dt.date) -> str:
    if birth_date is None:
        return _("onbekend")
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for label, low, high in AGE_GROUPS:
        if age >= low and (high is None or age <= high):
            return label
    return _("onbekend")


def _count_if(condition):  # type: ignore[no-untyped-def]
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), with literals so both engines agree on types."""
    return fn.SUM(SQLCase(None, [(condition, SQL("1"))], SQL("0")))


def _first_row(query) -> list[int]:  # type: ignore[no-untyped-def]
    row = next(iter(query.tuples()), None) or ()
    return [int(v or 0) for v in row]


def _active(period: Period):  # type: ignore[no-untyped-def]
    """The cases that ran at some moment of the period, as a subquery `active` of the columns
    the figures count by: those still open and those closed since its start, two index-only
    ranges of the cases' report index (models/reports.py) that never meet."""
    columns = [
        Case.id,
        Case.opened_at,
        Case.closed_at,
        Case.current_position,
        Case.interests,
        Case.mediator,
        Case.client,
        Case.source,
    ]
    still_open = Case.select(*columns).where(
        Case.closed_at.is_null(), Case.opened_at < period.end_utc
    )
    closed_since = Case.select(*columns).where(
        Case.closed_at >= period.start_utc, Case.opened_at < period.end_utc
    )
    return (still_open + closed_since).alias("active")


def _from(active, *columns):  # type: ignore[no-untyped-def]
    return Select([active], list(columns)).bind(Case._meta.database)


def _bucket(column, bounds: list[dt.datetime], empty: int | None = None):  # type: ignore[no-untyped-def]
    """SQL: the index of the first bound the value lies before (len(bounds) when none); `empty`
    for NULL."""
    whens = [(column.is_null(), empty)] if empty is not None else []
    whens += [(column < bound, i) for i, bound in enumerate(bounds)]
    return SQLCase(None, whens, len(bounds))


def cases_per_month(period: Period) -> Table:
    months = period.months()
    # Month k (1..n) runs from bounds[k - 1] to bounds[k]. One pass over the cases that ran in
    # the period counts them by the month they were opened and the month they were closed in
    # (0: before the period; n + 1: still open, or after it), two expressions a case.
    bounds = [months[0][1], *(hi for _label, _lo, hi in months)] if months else []
    active = _active(period)
    opened = _bucket(active.c.opened_at, bounds)
    closed = _bucket(active.c.closed_at, bounds, empty=len(bounds))
    # By position: PostgreSQL does not know two expressions with parameters for the same.
    pairs = _from(active, opened, closed, fn.COUNT(SQL("*"))).group_by(SQL("1"), SQL("2"))
    counted = [(int(o), int(c), int(n)) for o, c, n in pairs.tuples()] if months else []
    rows = []
    for k, (label, _lo, _hi) in enumerate(months, start=1):
        new = sum(n for o, _c, n in counted if o == k)
        running = sum(n for o, c, n in counted if o <= k and c >= k)
        rows.append(Row(label, [new, running]))
    return Table(
        "maanden",
        _("Nieuwe en lopende dossiers per maand"),
        [Column(_("Maand")), Column(_("Nieuw"), bar=True), Column(_("Lopend"), bar=True)],
        rows,
    )


def _by(query, labels: dict[str, str], missing: str) -> list[Row]:  # type: ignore[no-untyped-def]
    counts = {k or "": int(n) for k, n in query.tuples()}
    rows = [Row(str(label), [counts.pop(key, 0)]) for key, label in labels.items()]
    rest = sum(counts.values())
    if rest:
        rows.append(Row(missing, [rest]))
    return rows


def cases_per_service(period: Period) -> Table:
    active = _active(period)
    query = (
        _from(active, User.service, fn.COUNT(active.c.id))
        .join(User, on=(active.c.mediator_id == User.id))
        .group_by(User.service)
    )
    return Table(
        "diensten",
        _("Dossiers per dienst"),
        [Column(_("Dienst")), Column(_("Dossiers"), bar=True)],
        _by(query, SERVICES, _("andere")),
        _("Dienst van de bemiddelaar; dossiers die in de periode liepen."),
    )


def cases_per_referrer(period: Period) -> Table:
    active = _active(period)
    kind = fn.COALESCE(ReferringOrganisation.kind, active.c.source)
    query = (
        _from(active, kind, fn.COUNT(fn.DISTINCT(active.c.id)))
        .join(Referral, JOIN.LEFT_OUTER, on=(Referral.case == active.c.id))
        .join(
            ReferringOrganisation,
            JOIN.LEFT_OUTER,
            on=(Referral.organisation == ReferringOrganisation.id),
        )
        .group_by(kind)
    )
    labels = {**ORGANISATION_KINDS}
    labels["doorverwijzing"] = _("doorverwijzing zonder formulier")
    labels.update({k: v for k, v in CASE_SOURCES.items() if k != "doorverwijzing"})
    return Table(
        "doorverwijzers",
        _("Dossiers per soort doorverwijzer"),
        [Column(_("Aangemeld via")), Column(_("Dossiers"), bar=True)],
        _by(query, labels, _("andere")),
    )


def _per_district_and_age(period: Period) -> list[tuple[str, list[int]]]:
    """One pass over the period's cases and their clients: per district, the cases of each age
    group (AGE_GROUPS, then unknown), age on the last day of the period."""
    on = period.end
    columns = []
    for _label, low, high in AGE_GROUPS:
        condition = Client.birth_date <= years_before(on, low)
        if high is not None:
            condition &= Client.birth_date > years_before(on, high + 1)
        columns.append(_count_if(condition))
    columns.append(_count_if(Client.birth_date.is_null()))
    active = _active(period)
    query = (
        _from(active, Client.district, *columns)
        .join(Client, on=(active.c.client_id == Client.id))
        .group_by(Client.district)
    )
    return [(district or "", [int(v or 0) for v in ages]) for district, *ages in query.tuples()]


def cases_per_district(
    period: Period, districts: list[str], counted: list[tuple[str, list[int]]] | None = None
) -> Table:
    counted = _per_district_and_age(period) if counted is None else counted
    per_district: dict[str, int] = {}
    for district, ages in counted:
        per_district[district] = per_district.get(district, 0) + sum(ages)
    labels = {d: d for d in districts}
    rows = [Row(str(label), [per_district.pop(key, 0)]) for key, label in labels.items()]
    rest = sum(per_district.values())
    if rest:
        rows.append(Row(_("buiten Antwerpen of onbekend"), [rest]))
    return Table(
        "districten",
        _("Dossiers per district"),
        [Column(_("District")), Column(_("Dossiers"), bar=True)],
        rows,
    )


def cases_per_age_group(
    period: Period, counted: list[tuple[str, list[int]]] | None = None
) -> Table:
    counted = _per_district_and_age(period) if counted is None else counted
    values = [sum(ages[i] for _district, ages in counted) for i in range(len(AGE_GROUPS) + 1)]
    labels = [g[0] for g in AGE_GROUPS] + [_("onbekend")]
    return Table(
        "leeftijden",
        _("Dossiers per leeftijdsgroep"),
        [Column(_("Leeftijd")), Column(_("Dossiers"), bar=True)],
        [Row(label, [values[i]]) for i, label in enumerate(labels)],
        _("Leeftijd op de laatste dag van de periode."),
    )


def cases_per_domain(period: Period) -> Table:
    active = _active(period)
    interests = active.c.interests
    # The domain keys are no part of one another, so a substring test is exact; LIKE, not
    # contains()'s ILIKE, which costs PostgreSQL twice the time (the keys are lower case).
    # (peewee writes SQLite's LIKE as GLOB, hence the SQL spelled out).
    columns = [_count_if(NodeList((interests, SQL("LIKE"), Value(f"%{key}%")))) for key in DOMAINS]
    columns.append(_count_if(interests == ""))
    values = _first_row(_from(active, *columns))
    values += [0] * (len(columns) - len(values))
    labels = [str(v) for v in DOMAINS.values()] + [_("nog geen domein")]
    return Table(
        "domeinen",
        _("Dossiers per domein"),
        [Column(_("Domein")), Column(_("Dossiers"), bar=True)],
        [Row(label, [values[i]]) for i, label in enumerate(labels)],
        _("Eén dossier kan in meer dan één domein tellen."),
    )


def funnel(period: Period) -> Table:
    steps = list(StepDefinition.ordered())
    active = _active(period)
    columns = [_count_if(active.c.current_position >= step.position) for step in steps]
    values = _first_row(_from(active, *columns)) if steps else []
    values += [0] * (len(steps) - len(values))
    return Table(
        "stappen",
        _("Hoe ver dossiers kwamen"),
        [Column(_("Stap")), Column(_("Dossiers die zo ver kwamen"), bar=True)],
        [Row(f"{s.position}. {s.display_label}", [values[i]]) for i, s in enumerate(steps)],
        _("Dossiers die in de periode liepen, naar de stap waar ze nu zijn of voorbij zijn."),
    )


def outcomes(period: Period) -> Table:
    query = (
        Case.select(Case.outcome, fn.COUNT(Case.id))
        .where(
            Case.closed_at.is_null(False),
            Case.closed_at >= period.start_utc,
            Case.closed_at < period.end_utc,
        )
        .group_by(Case.outcome)
    )
    return Table(
        "afloop",
        _("Afgeronde dossiers per afloop"),
        [Column(_("Afloop")), Column(_("Dossiers"), bar=True)],
        _by(query, OUTCOMES, _("niet ingevuld")),
    )


def attendance(period: Period, now: dt.datetime) -> Table:
    until = min(period.end_utc, now)
    query = (
        Session.select(
            Activity.domain,
            _count_if(Session.attendance == "present"),
            _count_if(Session.attendance == "absent"),
            _count_if(Session.attendance == ""),
        )
        .join(Enrolment)
        .join(Activity)
        .where(Session.starts_at >= period.start_utc, Session.starts_at < until)
        .group_by(Activity.domain)
    )
    rows_found = cast("Iterable[tuple[Any, ...]]", query.tuples())
    found = {domain: [int(v or 0) for v in rest] for domain, *rest in rows_found}
    rows = []
    for key, label in DOMAINS.items():
        present, absent, unknown = found.pop(key, [0, 0, 0])
        told = present + absent
        rate = round(100 * present / told) if told else None
        rows.append(Row(str(label), [present, absent, unknown, rate], basis=told))
    return Table(
        "aanwezigheid",
        _("Aanwezigheid volgens de bevestigingen"),
        [
            Column(_("Domein")),
            Column(_("Aanwezig")),
            Column(_("Niet aanwezig")),
            Column(_("Niet bevestigd")),
            Column(_("Aanwezig (%)"), kind="percent", bar=True),
        ],
        rows,
        _("Activiteitsmomenten tot vandaag; het percentage telt alleen bevestigde momenten."),
    )


def contacts(period: Period) -> Table:
    query = (
        Visit.select(Visit.contact_type, fn.COUNT(SQL("*")), fn.SUM(Visit.duration_minutes))
        .where(
            Visit.planned == False,  # noqa: E712
            Visit.kept(),
            Visit.occurred_at >= period.start_utc,
            Visit.occurred_at < period.end_utc,
        )
        .group_by(Visit.contact_type)
    )
    rows_found = cast("Iterable[tuple[str, int, int | None]]", query.tuples())
    found = {kind: (int(n), int(minutes or 0)) for kind, n, minutes in rows_found}
    rows = []
    for key, label in CONTACT_TYPES.items():
        n, minutes = found.pop(key, (0, 0))
        rows.append(Row(str(label), [n, round(minutes / 60, 1) if minutes else 0]))
    return Table(
        "contacten",
        _("Contacten per soort en bestede tijd"),
        [
            Column(_("Soort contact")),
            Column(_("Contacten"), bar=True),
            Column(_("Uren"), kind="number"),
        ],
        rows,
    )


def thresholds(period: Period) -> Table:
    query = (
        CaseThreshold.select(
            ThresholdCategory.id,
            _count_if(CaseThreshold.status == "open"),
            _count_if(CaseThreshold.status == "resolved"),
            _count_if(CaseThreshold.status == "unsolvable"),
            _count_if(CaseThreshold.signal == True),  # noqa: E712
        )
        .join(ThresholdCategory)
        .where(
            CaseThreshold.created_at >= period.start_utc, CaseThreshold.created_at < period.end_utc
        )
        .group_by(ThresholdCategory.id, ThresholdCategory.position)
        .order_by(ThresholdCategory.position)
    )
    rows_found = cast("Iterable[tuple[Any, ...]]", query.tuples())
    found: dict[int, list[float | int | None]] = {
        category: [int(v or 0) for v in rest] for category, *rest in rows_found
    }
    categories = ThresholdCategory.select(
        ThresholdCategory.id, ThresholdCategory.key, ThresholdCategory.label
    ).order_by(ThresholdCategory.position)
    return Table(
        "drempels",
        _("Drempels per soort: opgelost en open"),
        [
            Column(_("Drempel")),
            Column(_("Open"), bar=True),
            Column(_("Opgelost"), bar=True),
            Column(_("Niet oplosbaar")),
            Column(_("Gesignaleerd")),
        ],
        [Row(c.display_label, found.get(c.id, [0, 0, 0, 0])) for c in categories],
        _("Drempels genoteerd in de periode, met hun stand vandaag."),
    )


def all_tables(period: Period, now: dt.datetime, districts: list[str]) -> list[Table]:
    """Every figure of the report page, in a fixed number of queries."""
    per_district_and_age = _per_district_and_age(period)
    return [
        cases_per_month(period),
        cases_per_service(period),
        cases_per_referrer(period),
        cases_per_district(period, districts, per_district_and_age),
        cases_per_age_group(period, per_district_and_age),
        cases_per_domain(period),
        funnel(period),
        outcomes(period),
        attendance(period, now),
        contacts(period),
        thresholds(period),
    ]


@dataclass
class Signal:
    month: str
    category: str
    district: str
    age_group: str
    domains: str
    status: str
    note: str


def signals(period: Period) -> list[Signal]:
    """The thresholds marked for the network, without any name: one query, chosen columns only."""
    note = SQLCase(None, [(CaseThreshold.note_shareable == True, CaseThreshold.note)], "")  # noqa: E712
    query = (
        CaseThreshold.select(
            CaseThreshold.created_at,
            ThresholdCategory.key,
            ThresholdCategory.label,
            Client.district,
            Client.birth_date,
            Case.interests,
            CaseThreshold.status,
            note.alias("shared_note"),
        )
        .join(ThresholdCategory)
        .switch(CaseThreshold)
        .join(Case)
        .join(Client)
        .where(
            CaseThreshold.signal == True,  # noqa: E712
            CaseThreshold.created_at >= period.start_utc,
            CaseThreshold.created_at < period.end_utc,
        )
        .order_by(CaseThreshold.created_at, ThresholdCategory.position)
    )

    out = []
    signals = cast("Iterable[tuple[Any, ...]]", query.tuples())
    for created, key, category, district, born, interests, status, shared in signals:
        local = to_local(created)
        out.append(
            Signal(
                month=month_label(local.date()),
                category=threshold_category_label(key, category) or "",
                district=district or _("onbekend"),
                age_group=age_group(born, local.date()),
                domains=", ".join(
                    str(DOMAINS.get(d, d)) for d in (interests or "").split(",") if d
                ),
                status=str(THRESHOLD_STATUSES.get(status, status)),
                note=shared or "",
            )
        )
    return out
