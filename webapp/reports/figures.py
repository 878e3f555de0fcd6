"""The network's figures: aggregate queries over a period, one query per figure, no names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from peewee import SQL, fn
from peewee import Case as SQLCase

from webapp.db import tuples_of
from webapp.models import (
    CASE_SOURCES,
    CONTACT_TYPES,
    DOMAINS,
    ORGANISATION_KINDS,
    OUTCOMES,
    SERVICES,
    THRESHOLD_STATUSES,
    Case,
    CaseThreshold,
    Client,
    ReportCount,
    StepDefinition,
    ThresholdCategory,
    catch_up,
    threshold_category_label,
)
from webapp.timeutil import local_today, to_local, to_utc

# Ages reached in the year the period ends: (label, youngest, oldest); None: no bound.
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
    """Whole calendar months, Brussels time: the reports count per month (models/reports.py)."""

    start: dt.date  # first day of the first month
    end: dt.date  # last day of the last month, inclusive

    @classmethod
    def whole_months(cls, start: dt.date, end: dt.date) -> Period:
        """The months from the one `start` falls in to the one `end` falls in."""
        following = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        return cls(start.replace(day=1), following - dt.timedelta(days=1))

    @property
    def start_utc(self) -> dt.datetime:
        return to_utc(dt.datetime.combine(self.start, dt.time()))

    @property
    def end_utc(self) -> dt.datetime:
        return to_utc(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()))

    @property
    def last_month(self) -> dt.date:
        return self.end.replace(day=1)

    def months(self) -> list[dt.date]:
        """The first day of each month of the period."""
        out, first = [], self.start.replace(day=1)
        while first <= self.end:
            out.append(first)
            first = (first + dt.timedelta(days=32)).replace(day=1)
        return out


def age_group(birth_date: dt.date | None, on: dt.date) -> str:
    """The age group of someone born then, by the age they reach in the year of `on` (as
    youth work counts ages: by birth year)."""
    if birth_date is None:
        return _("onbekend")
    return age_group_of_year(birth_date.year, on.year)


def age_group_of_year(born: int, year: int) -> str:
    age = year - born
    for label, low, high in AGE_GROUPS:
        if age >= low and (high is None or age <= high):
            return label
    return _("onbekend")


@dataclass
class Counts:
    """What the kept counts say about a period (three queries, whatever the number of rows)."""

    active: dict[str, int]  # "dienst:ocmw" → cases that ran at some moment of the period
    closed: dict[str, int]  # "afloop:independent" → cases closed in the period
    months: list[tuple[dt.date, int, int]]  # first day, cases opened, cases running
    other: dict[tuple[str, str], tuple[int, int]]  # (figure, key) → count, minutes

    def by(self, dimension: str) -> dict[str, int]:
        """The active cases per value of one dimension ("dienst" → {"ocmw": 12, …})."""
        prefix = f"{dimension}:"
        return {k[len(prefix) :]: n for k, n in self.active.items() if k.startswith(prefix)}


def read_counts(period: Period, today: dt.date) -> Counts:
    """The period's counts, after counting what changed since the last time."""
    catch_up()
    first, last = period.start, period.last_month
    count = ReportCount
    ran = SQLCase(
        None,
        [
            (count.figure == "nu", count.n),
            ((count.figure == "open") & (count.day > last), count.n * -1),
            (count.figure == "dicht", count.n),
        ],
        SQL("0"),
    )
    closed_in = SQLCase(
        None, [((count.figure == "dicht") & (count.day <= last), count.n)], SQL("0")
    )
    now = SQLCase(None, [(count.figure == "nu", count.n)], SQL("0"))
    per_key = (
        count.select(count.key, fn.SUM(ran), fn.SUM(closed_in), fn.SUM(now))
        .where(
            (count.figure == "nu") | (count.figure.in_(["open", "dicht"]) & (count.day >= first))
        )
        .group_by(count.key)
    )
    active, closed, open_now = {}, {}, 0
    for key, n_active, n_closed, n_now in tuples_of(per_key):
        active[key], closed[key] = int(n_active or 0), int(n_closed or 0)
        if key == "alle:":
            open_now = int(n_now or 0)
    # Per month: opened in it, and running in it (open now, less those opened after it, plus
    # those closed since its start).
    rows = count.select(count.figure, count.day, count.n).where(
        count.key == "alle:", count.figure.in_(["open", "dicht"]), count.day >= first
    )
    opened: dict[dt.date, int] = {}
    closed_from: dict[dt.date, int] = {}
    for figure, day, n in tuples_of(rows):
        (opened if figure == "open" else closed_from)[day] = n
    months = []
    for month in period.months():
        after = sum(n for d, n in opened.items() if d > month)
        since = sum(n for d, n in closed_from.items() if d >= month)
        months.append((month, opened.get(month, 0), open_now - after + since))
    # Sessions up to and including today: whole months before this one, days of this one.
    this_month = today.replace(day=1)
    others = (
        count.select(count.figure, count.key, fn.SUM(count.n), fn.SUM(count.minutes))
        .where(
            (count.figure.in_(["contact", "drempel"]) & count.day.between(first, last))
            | ((count.figure == "moment") & (count.day >= first) & (count.day <= last))
            & (count.day < this_month)
            | (count.figure == "momentdag")
            & count.day.between(max(first, this_month), min(period.end, today))
        )
        .group_by(count.figure, count.key)
    )
    other: dict[tuple[str, str], tuple[int, int]] = {}
    for figure, key, n, minutes in tuples_of(others):
        name = "moment" if figure == "momentdag" else figure
        before = other.get((name, key), (0, 0))
        other[(name, key)] = (before[0] + int(n or 0), before[1] + int(minutes or 0))
    return Counts(active, closed, months, other)


def _rows(counts: dict[str, int], labels: dict[str, str], missing: str) -> list[Row]:
    counts = dict(counts)
    rows = [Row(str(label), [counts.pop(key, 0)]) for key, label in labels.items()]
    rest = sum(counts.values())
    if rest:
        rows.append(Row(missing, [rest]))
    return rows


def cases_per_month(period: Period, counts: Counts) -> Table:
    return Table(
        "maanden",
        _("Nieuwe en lopende dossiers per maand"),
        [Column(_("Maand")), Column(_("Nieuw"), bar=True), Column(_("Lopend"), bar=True)],
        [Row(month_label(month), [new, running]) for month, new, running in counts.months],
    )


def cases_per_service(counts: Counts) -> Table:
    return Table(
        "diensten",
        _("Dossiers per dienst"),
        [Column(_("Dienst")), Column(_("Dossiers"), bar=True)],
        _rows(counts.by("dienst"), SERVICES, _("andere")),
        _("Dienst van de bemiddelaar; dossiers die in de periode liepen."),
    )


def cases_per_referrer(counts: Counts) -> Table:
    labels = {**ORGANISATION_KINDS}
    labels["doorverwijzing"] = _("doorverwijzing zonder formulier")
    labels.update({k: v for k, v in CASE_SOURCES.items() if k != "doorverwijzing"})
    return Table(
        "doorverwijzers",
        _("Dossiers per soort doorverwijzer"),
        [Column(_("Aangemeld via")), Column(_("Dossiers"), bar=True)],
        _rows(counts.by("verwijzer"), labels, _("andere")),
    )


def cases_per_district(counts: Counts, districts: list[str]) -> Table:
    return Table(
        "districten",
        _("Dossiers per district"),
        [Column(_("District")), Column(_("Dossiers"), bar=True)],
        _rows(counts.by("district"), {d: d for d in districts}, _("buiten Antwerpen of onbekend")),
    )


def cases_per_age_group(period: Period, counts: Counts) -> Table:
    labels = [g[0] for g in AGE_GROUPS] + [_("onbekend")]
    values = dict.fromkeys(labels, 0)
    for year, n in counts.by("geboren").items():
        values[age_group_of_year(int(year), period.end.year) if year else _("onbekend")] += n
    return Table(
        "leeftijden",
        _("Dossiers per leeftijdsgroep"),
        [Column(_("Leeftijd")), Column(_("Dossiers"), bar=True)],
        [Row(label, [values[label]]) for label in labels],
        _("Leeftijd bereikt in het jaar waarin de periode eindigt (per geboortejaar)."),
    )


def cases_per_domain(counts: Counts) -> Table:
    per_domain = counts.by("domein")
    labels = [str(v) for v in DOMAINS.values()] + [_("nog geen domein")]
    values = [per_domain.get(key, 0) for key in DOMAINS] + [per_domain.get("", 0)]
    return Table(
        "domeinen",
        _("Dossiers per domein"),
        [Column(_("Domein")), Column(_("Dossiers"), bar=True)],
        [Row(label, [values[i]]) for i, label in enumerate(labels)],
        _("Eén dossier kan in meer dan één domein tellen."),
    )


def funnel(counts: Counts) -> Table:
    per_step = {int(p): n for p, n in counts.by("stap").items() if p.lstrip("-").isdigit()}
    steps = list(StepDefinition.ordered())
    return Table(
        "stappen",
        _("Hoe ver dossiers kwamen"),
        [Column(_("Stap")), Column(_("Dossiers die zo ver kwamen"), bar=True)],
        [
            Row(
                f"{s.position}. {s.display_label}",
                [sum(n for p, n in per_step.items() if p >= s.position)],
            )
            for s in steps
        ],
        _("Dossiers die in de periode liepen, naar de stap waar ze nu zijn of voorbij zijn."),
    )


def outcomes(counts: Counts) -> Table:
    per_outcome = {
        k.removeprefix("afloop:"): n
        for k, n in counts.closed.items()
        if k.startswith("afloop:") and n
    }
    return Table(
        "afloop",
        _("Afgeronde dossiers per afloop"),
        [Column(_("Afloop")), Column(_("Dossiers"), bar=True)],
        _rows(per_outcome, OUTCOMES, _("niet ingevuld")),
    )


def attendance(counts: Counts) -> Table:
    rows = []
    for key, label in DOMAINS.items():
        present, absent, unknown = (
            counts.other.get(("moment", f"{key}|{a}"), (0, 0))[0] for a in ("present", "absent", "")
        )
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
        _("Momenten tot en met vandaag; het percentage telt alleen bevestigde momenten."),
    )


def contacts(period: Period, counts: Counts | None = None) -> Table:
    counts = counts or read_counts(period, local_today())
    rows = []
    for key, label in CONTACT_TYPES.items():
        n, minutes = counts.other.get(("contact", key), (0, 0))
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


def thresholds(counts: Counts) -> Table:
    found: dict[int, list[float | int | None]] = {}
    for (figure, key), (n, _minutes) in counts.other.items():
        if figure != "drempel":
            continue
        category, status, signal = key.split("|")
        values = found.setdefault(int(category), [0, 0, 0, 0])
        column = {"open": 0, "resolved": 1, "unsolvable": 2}.get(status)
        if column is not None:
            values[column] = cast("int", values[column]) + n
        if signal == "1":
            values[3] = cast("int", values[3]) + n
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


def all_tables(period: Period, today: dt.date, districts: list[str]) -> list[Table]:
    """Every figure of the report page, from the kept counts, in a fixed number of queries."""
    counts = read_counts(period, today)
    return [
        cases_per_month(period, counts),
        cases_per_service(counts),
        cases_per_referrer(counts),
        cases_per_district(counts, districts),
        cases_per_age_group(period, counts),
        cases_per_domain(counts),
        funnel(counts),
        outcomes(counts),
        attendance(counts),
        contacts(period, counts),
        thresholds(counts),
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


def _signals_in(period: Period) -> Any:
    """The condition for the thresholds marked for the network in the period (one index)."""
    return (
        (CaseThreshold.signal == True)  # noqa: E712
        & (CaseThreshold.created_at >= period.start_utc)
        & (CaseThreshold.created_at < period.end_utc)
    )


def count_signals(period: Period) -> int:
    """How many thresholds were marked for the network in the period."""
    return int(CaseThreshold.select(fn.COUNT(CaseThreshold.id)).where(_signals_in(period)).scalar())


def signals(period: Period, limit: int | None = None) -> list[Signal]:
    """The thresholds marked for the network, without any name, oldest first (the first
    `limit`): one query, chosen columns only."""
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
        .where(_signals_in(period))
        .order_by(CaseThreshold.created_at, ThresholdCategory.position)
    )
    if limit is not None:
        query = query.limit(limit)

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
