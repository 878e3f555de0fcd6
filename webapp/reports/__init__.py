"""Reports for the network: figures over a period, as tables with bars and as CSV; signals."""

from __future__ import annotations

import csv
import io
import zipfile

import click
from flask import Blueprint, Response, abort, current_app, make_response, request
from flask_babel import gettext as _
from flask_login import login_required
from peewee import DatabaseError

from webapp.htmx import render_page_or_block
from webapp.models import DISTRICTS, catch_up, database, recount
from webapp.reports import figures
from webapp.reports.figures import SMALL, Period, Table, all_tables
from webapp.reports.forms import PeriodForm
from webapp.timeutil import local_today

bp = Blueprint("reports", __name__, url_prefix="/reports")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SIGNALS_ON_PAGE = 50  # a preview on a phone; the CSV holds them all


def safe_cell(value: object) -> str:
    """A spreadsheet cell that cannot run as a formula (OWASP: CSV injection)."""
    if isinstance(value, float):
        value = f"{value:g}".replace(".", ",")  # the decimal comma, as the semicolons suggest
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def masked(value: object, kind: str, basis: int | None) -> object:
    """Counts of fewer than five people leave the team only as '<5'."""
    if kind == "count" and isinstance(value, int) and 0 < value < SMALL:
        return "<5"
    if kind == "percent" and basis is not None and 0 < basis < SMALL:
        return "<5"
    return value


def period_from_args() -> tuple[Period, dict[str, str]]:
    """The period asked for in the query string (default: this year up to today), and errors."""
    form = PeriodForm(request.args)
    return form.period, form.messages


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    """A CSV for spreadsheets in Flanders: semicolons, UTF-8 with a byte order mark."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def csv_response(filename: str, header: list[str], rows: list[list[object]]) -> Response:
    """One CSV file to download."""
    response = make_response(csv_text(header, rows))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _tables(period: Period) -> list[Table]:
    return all_tables(period, local_today(), DISTRICTS)


WRITING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MARKS_AFTER_A_REQUEST = 500


@bp.after_app_request
def count_what_changed(response: Response) -> Response:
    """After a request that may have written, count what it changed (models/reports.py), so
    that the queue stays short and the reports read fresh counts at once. Another catch-up
    running counts it too: this one then does not wait."""
    if request.method in WRITING_METHODS:
        try:
            catch_up(limit=MARKS_AFTER_A_REQUEST, wait=False)
        except DatabaseError:
            # The request's own change is saved; what it marked is counted by the next
            # catch-up. The person sees their change, not an error.
            current_app.logger.exception("counting for the reports failed after a request")
    return response


@bp.cli.command("catch-up")
def catch_up_command() -> None:
    """Count what changed since the last count (cron, every few minutes; see README)."""
    with database.connection_context():
        click.echo(f"{catch_up()} changes counted")


@bp.cli.command("recount")
def recount_command() -> None:
    """Throw the counts of the reports away and count every row again."""
    with database.connection_context():
        click.echo(f"{recount()} rows counted")


@bp.get("/")
@login_required
def index() -> Response:
    """The figures of a period; the period form swaps only the figures."""
    period, errors = period_from_args()
    return render_page_or_block(
        "reports/index.html",
        "report",
        period=period,
        errors=errors,
        raw=request.args,
        tables=_tables(period),
    )


@bp.get("/export/<key>.csv")
@login_required
def export(key: str) -> Response:
    """One table as CSV, with small counts masked for the network."""
    period, errors = period_from_args()
    if errors:
        abort(400)
    table = next((t for t in _tables(period) if t.key == key), None)
    if table is None:
        abort(404)
    return csv_response(*_table_csv(table, period))


def _suffix(period: Period) -> str:
    return f"{period.start.isoformat()}-{period.end.isoformat()}"


def _table_csv(table: Table, period: Period) -> tuple[str, list[str], list[list[object]]]:
    """File name, header and rows of one table, small counts masked."""
    rows = [
        [row.label]
        + [masked(v, c.kind, row.basis) for v, c in zip(row.values, table.columns[1:], strict=True)]
        for row in table.rows
    ]
    return f"vrijbaan-{table.key}-{_suffix(period)}.csv", [c.label for c in table.columns], rows


@bp.get("/export/alles.zip")
@login_required
def export_all() -> Response:
    """Every table and the signals as CSV files in one zip, built in memory, masked the same."""
    period, errors = period_from_args()
    if errors:
        abort(400)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in _tables(period):
            name, header, rows = _table_csv(table, period)
            archive.writestr(name, csv_text(header, rows))
        name, header, rows = _signals_csv(period)
        archive.writestr(name, csv_text(header, rows))
    response = make_response(buffer.getvalue())
    response.headers["Content-Type"] = "application/zip"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="vrijbaan-cijfers-{_suffix(period)}.zip"'
    )
    return response


@bp.get("/signals")
@login_required
def signals() -> Response:
    """The thresholds marked for the network, anonymised."""
    period, errors = period_from_args()
    return render_page_or_block(
        "reports/signals.html",
        "report",
        period=period,
        errors=errors,
        raw=request.args,
        signals=figures.signals(period, SIGNALS_ON_PAGE),
        total=figures.count_signals(period),
    )


@bp.get("/signals.csv")
@login_required
def signals_csv() -> Response:
    """The signals as CSV: category, district, age group, domain, month, shareable note."""
    period, errors = period_from_args()
    if errors:
        abort(400)
    return csv_response(*_signals_csv(period))


def _signals_csv(period: Period) -> tuple[str, list[str], list[list[object]]]:
    header = [
        _("Maand"),
        _("Drempel"),
        _("District"),
        _("Leeftijd"),
        _("Domein"),
        _("Stand"),
        _("Notitie"),
    ]
    rows: list[list[object]] = [
        [s.month, s.category, s.district, s.age_group, s.domains, s.status, s.note]
        for s in figures.signals(period)
    ]
    return f"vrijbaan-signalen-{_suffix(period)}.csv", header, rows
