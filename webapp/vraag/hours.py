"""The walk-in hours (permanenties) a coordinator keeps: list, add, change, remove."""

from __future__ import annotations

from babel.dates import get_day_names
from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug import Response

from webapp.auth import coordinator_required
from webapp.forms import differences, parse_int
from webapp.models import WEEKDAYS, WalkInHours
from webapp.vraag import bp
from webapp.vraag.forms import WalkInHoursForm

FIELDS = ("place", "address", "weekday", "starts", "ends", "note", "active")


def _day_names() -> dict[int, str]:
    names = get_day_names("wide", locale=get_locale())
    return {day: names[day - 1] for day in WEEKDAYS}


def _load(hours_id: int) -> WalkInHours:
    hours = WalkInHours.get_or_none(WalkInHours.id == hours_id)
    if hours is None:
        abort(404)
    return hours


def _form(hours: WalkInHours | None = None) -> WalkInHoursForm:
    return WalkInHoursForm(obj=hours, day_names=_day_names())


def _render_form(
    form: WalkInHoursForm,
    hours: WalkInHours | None,
    status: int = 200,
    changed: list[tuple[str, str, str]] | None = None,
) -> Response:
    page = render_template("vraag/hours_form.html", form=form, hours=hours, differences=changed)
    return make_response(page, status)


@bp.get("/vraag/permanenties/")
@coordinator_required
def hours_index() -> str:
    """The walk-in hours, as /vraag and the poster show them (the active ones)."""
    return render_template(
        "vraag/hours.html", rows=list(WalkInHours.listed()), day_names=_day_names()
    )


@bp.get("/vraag/permanenties/nieuw")
@coordinator_required
def hours_new() -> Response:
    """An empty form for new walk-in hours."""
    return _render_form(_form(), None)


@bp.post("/vraag/permanenties/")
@coordinator_required
def hours_create() -> Response:
    """Add walk-in hours."""
    form = _form()
    if not form.validate_on_submit():
        return _render_form(form, None, 422)
    WalkInHours.create(**{name: form[name].data for name in FIELDS})
    flash(_("Permanentie toegevoegd."))
    return redirect(url_for("vraag.hours_index"), 303)


@bp.get("/vraag/permanenties/<int:hours_id>/bewerken")
@coordinator_required
def hours_edit(hours_id: int) -> Response:
    """The form of existing walk-in hours."""
    hours = _load(hours_id)
    return _render_form(_form(hours), hours)


@bp.post("/vraag/permanenties/<int:hours_id>")
@coordinator_required
def hours_update(hours_id: int) -> Response:
    """Change walk-in hours."""
    hours = _load(hours_id)
    form = _form()
    if not form.validate_on_submit():
        return _render_form(form, hours, 422)
    saved = (
        WalkInHours.update(
            **{name: form[name].data for name in FIELDS}, version=WalkInHours.version + 1
        )
        .where(WalkInHours.id == hours.id, WalkInHours.version == parse_int(form.version.data))
        .execute()
    )
    if not saved:
        # Someone else saved these hours in between: what differs is shown, this input kept.
        hours = _load(hours.id)
        form.version.data = hours.version
        changed = differences(form, hours, list(FIELDS))
        if changed:
            return _render_form(form, hours, 409, changed)
    flash(_("Permanentie aangepast."))
    return redirect(url_for("vraag.hours_index"), 303)


@bp.post("/vraag/permanenties/<int:hours_id>/verwijderen")
@coordinator_required
def hours_delete(hours_id: int) -> Response:
    """Remove walk-in hours (to only hide them for a while, untick 'Tonen')."""
    hours = _load(hours_id)
    WalkInHours.delete().where(WalkInHours.id == hours.id).execute()
    flash(_("Permanentie verwijderd."))
    return redirect(url_for("vraag.hours_index"), 303)
