"""Correcting the record: a recorded contact corrected or removed (with a reason), a planned one
moved or cancelled. Every change checks the visit's version (409 with the input kept), leaves a
line on the timeline and an audit row naming the changed fields (never their values)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from htmx_flask import request
from peewee import fn

from webapp.cases.forms import parse_version
from webapp.htmx import redirect_to, render_page_or_block, with_trigger
from webapp.models import (
    CANCEL_REASONS,
    CONTACT_TYPES,
    CORRECTION_WINDOW,
    REMOVE_REASONS,
    VISIT_FIELD_LABELS,
    AuditEvent,
    Case,
    CaseEvent,
    Task,
    User,
    Visit,
    database,
    in_team_language,
)
from webapp.timeutil import to_local, to_utc, utcnow
from webapp.visits import bp, form_context
from webapp.visits.forms import (
    CancelForm,
    MoveForm,
    RemoveForm,
    VisitEditForm,
    form_for_correction,
)

# The fields a correction may change, in the order of the form.
CORRECTED_FIELDS = (
    "contact_type",
    "occurred_at",
    "duration_minutes",
    "place",
    "contact_made",
    "notes",
)


def _day(visit: Visit) -> str:
    when = to_local(visit.occurred_at)
    return f"{when.day}/{when.month}"


def _moment(when: Any) -> str:
    local = to_local(when)
    return f"{local.day}/{local.month} {local:%H:%M}"


def _visit(visit_id: int) -> Visit:
    """A visit on a case the user may see, not removed; else 404."""
    visit = Visit.get_for(current_user, visit_id)
    if visit.removed_at is not None:
        abort(404)
    return visit


def _back(case: Case, message: str) -> Response:
    """Back to the case page, with the message announced there."""
    flash(message)
    response = redirect_to(url_for("cases.show", case_id=case.id))
    if request.htmx:
        return with_trigger(response, "announce", message)
    return response


def _refused(visit: Visit) -> Response:
    """403: who may correct this contact, said plainly."""
    return render_page_or_block(
        "visits/refused.html",
        "content",
        403,
        visit=visit,
        case=visit.case,
        days=CORRECTION_WINDOW.days,
    )


def _bump(visit: Visit, expected: int | None, **values: Any) -> bool:
    """Save `values` and raise the version, only if nobody changed the visit since `expected`."""
    if expected is None:
        return False
    return bool(
        Visit.update(**values, version=expected + 1)
        .where(Visit.id == visit.id, Visit.kept(), fn.COALESCE(Visit.version, 1) == expected)
        .execute()
    )


def _display(name: str, value: Any) -> str:
    """A field's value as a person reads it, for the 'what differs' table of a conflict."""
    if value in (None, ""):
        return "—"
    if name == "contact_type":
        return str(CONTACT_TYPES.get(value, value))
    if name == "contact_made":
        return _("ja") if value else _("nee")
    if name == "occurred_at":
        return _moment(value)
    if hasattr(value, "strftime"):
        return value.strftime("%d-%m-%Y")
    return str(value)


def _changed(values: dict[str, Any], visit: Visit) -> list[str]:
    return [name for name in CORRECTED_FIELDS if values[name] != getattr(visit, name)]


def _labels(names: list[str]) -> str:
    with in_team_language():
        return ", ".join(str(VISIT_FIELD_LABELS[name]) for name in names)


def _render_correction(
    form: VisitEditForm, visit: Visit, status: int = 200, **context: Any
) -> Response:
    return render_page_or_block(
        "visits/form.html",
        "visit_form",
        status=status,
        **form_context(form, visit.case, visit, mode="correct"),
        **context,
    )


def first_contact_effects(case: Case, visit: Visit, by: User, because: str) -> None:
    """Keep 'Kennismaking' honest after a contact changed or went: done by a contact that took
    place, and never silently done when none is left."""
    if visit.removed_at is None and visit.contact_made and not visit.planned:
        if case.complete_step_by_event("first_contact", by):
            case.refresh_position()
        return
    case.recheck_first_contact(by, because)


@bp.get("/visits/<int:visit_id>/correct")
@login_required
def correct_form(visit_id: int) -> Response:
    """Correct a recorded contact: every field, prefilled."""
    visit = _visit(visit_id)
    if visit.planned:
        return redirect_to(url_for("visits.edit", visit_id=visit.id))
    if not visit.may_correct(current_user, visit.case):
        return _refused(visit)
    return _render_correction(form_for_correction(visit), visit)


@bp.post("/visits/<int:visit_id>/correct")
@login_required
def correct(visit_id: int) -> Response:
    """Save a correction, unless someone else changed the contact in between (409)."""
    visit = _visit(visit_id)
    case = visit.case
    if visit.planned:
        abort(404)
    if not visit.may_correct(current_user, case):
        return _refused(visit)
    form = form_for_correction(visit)
    if not form.validate():
        return _render_correction(form, visit, 422)
    values = {k: v for k, v in form.values().items() if k in CORRECTED_FIELDS}
    if values["occurred_at"] == visit.occurred_at.replace(second=0, microsecond=0):
        values["occurred_at"] = visit.occurred_at  # the form shows minutes: not a change
    user = current_user._get_current_object()
    with database.atomic():
        changed = _changed(values, visit)
        if not _bump(visit, parse_version(form.version.data), **values):
            stored = Visit.get_by_id(visit.id)
            if stored.removed_at is not None:
                return _gone(case)
            differences = [
                (
                    getattr(form, name).label.text,
                    _display(name, values[name]),
                    _display(name, getattr(stored, name)),
                )
                for name in CORRECTED_FIELDS
                if values[name] != getattr(stored, name)
            ]
            if not differences:  # the other change was this one
                return _back(case, _("Niets veranderd aan het contact."))
            form.version.data = stored.version or 1
            return _render_correction(form, stored, 409, differences=differences)
        if changed:
            with in_team_language():
                detail = _(
                    "Contact van %(day)s aangepast: %(fields)s",
                    day=_day(visit),
                    fields=_labels(changed),
                )
            CaseEvent.create(
                case=case, actor=user, kind="visit_corrected", visit=visit, detail=detail[:500]
            )
            AuditEvent.record("update", visit, fields=changed)
            stored = Visit.get_by_id(visit.id)
            with in_team_language():
                because = _("Het contact van %(day)s werd aangepast.", day=_day(visit))
            first_contact_effects(case, stored, user, because)
            case.touch()
    if not changed:
        return _back(case, _("Niets veranderd aan het contact."))
    return _back(case, _("Contact aangepast."))


def _gone(case: Case) -> Response:
    """409: the contact was removed (or the plan cancelled) by someone else meanwhile."""
    return render_page_or_block(
        "cases/conflict.html",
        "content",
        409,
        case=case,
        message=_("Iemand anders verwijderde dit contact intussen. Je wijziging is niet bewaard."),
    )


def _reason_page(
    mode: str, form: RemoveForm | CancelForm, visit: Visit, status: int = 200, **extra: Any
) -> Response:
    return render_page_or_block(
        "visits/remove.html",
        "content",
        status,
        form=form,
        visit=visit,
        case=visit.case,
        mode=mode,
        **extra,
    )


@bp.get("/visits/<int:visit_id>/remove")
@login_required
def remove_form(visit_id: int) -> Response:
    """Remove a recorded contact: why?"""
    visit = _visit(visit_id)
    if visit.planned:
        return redirect_to(url_for("visits.cancel_form", visit_id=visit.id))
    if not visit.may_correct(current_user, visit.case):
        return _refused(visit)
    return _reason_page("remove", RemoveForm(version=visit.version or 1), visit)


@bp.post("/visits/<int:visit_id>/remove")
@login_required
def remove(visit_id: int) -> Response:
    """Remove a recorded contact: it counts nowhere any more, its notes are wiped, and the
    timeline says which contact went and why."""
    visit = Visit.get_for(current_user, visit_id)
    case = visit.case
    if visit.removed_at is not None:
        return _back(case, _("Dit contact was al verwijderd."))  # a double tap
    if visit.planned:
        abort(404)
    if not visit.may_correct(current_user, case):
        return _refused(visit)
    form = RemoveForm()
    if not form.validate_on_submit():
        return _reason_page("remove", form, visit, 422)
    return _take_off(visit, form, "remove", REMOVE_REASONS)


def _take_off(
    visit: Visit, form: RemoveForm | CancelForm, action: str, reasons: dict[str, Any]
) -> Response:
    """Remove a contact or cancel a plan: the row stays (its key, its audit), counts nowhere."""
    case = visit.case
    user = current_user._get_current_object()
    reason = form.reason.data
    with database.atomic():
        if not _bump(
            visit,
            parse_version(form.version.data),
            removed_at=utcnow(),
            removed_reason=reason,
            notes="",
            place="",
        ):
            stored = Visit.get_by_id(visit.id)
            if stored.removed_at is not None:
                return _back(case, _("Dit contact was al verwijderd."))
            form.version.data = stored.version or 1
            return _reason_page(action, form, stored, 409, conflict=True)
        with in_team_language():
            label = str(reasons[reason])
            if action == "remove":
                detail = _(
                    "Contact van %(day)s verwijderd: %(reason)s", day=_day(visit), reason=label
                )
            else:
                detail = _(
                    "Afspraak van %(moment)s geannuleerd: %(reason)s",
                    moment=_moment(visit.occurred_at),
                    reason=label,
                )
            if form.note.data:
                detail += f" — {form.note.data}"
            because = _("Het contact van %(day)s werd verwijderd.", day=_day(visit))
        kind = "visit_removed" if action == "remove" else "visit_cancelled"
        CaseEvent.create(case=case, actor=user, kind=kind, visit=visit, detail=detail[:500])
        AuditEvent.record(action, visit, fields=["removed_reason"])
        if action == "remove":
            visit.removed_at = utcnow()
            first_contact_effects(case, visit, user, because)
            # What a duplicate or misplaced contact planned is as wrong as the contact itself.
            Task.delete().where(Task.visit == visit, Task.done_at.is_null()).execute()
        case.touch()
    if action == "remove":
        return _back(case, _("Contact verwijderd."))
    return _back(case, _("Afspraak geannuleerd."))


def _planned(visit_id: int) -> Visit:
    """A planned contact on an open case the user may see; else 404."""
    visit = _visit(visit_id)
    if not visit.planned or not visit.case.is_open:
        abort(404)
    return visit


@bp.get("/visits/<int:visit_id>/cancel")
@login_required
def cancel_form(visit_id: int) -> Response:
    """Cancel a planned contact: why?"""
    visit = _planned(visit_id)
    return _reason_page("cancel", CancelForm(version=visit.version or 1), visit)


@bp.post("/visits/<int:visit_id>/cancel")
@login_required
def cancel(visit_id: int) -> Response:
    """Cancel a planned contact: off Vandaag and the case, on the timeline with the reason."""
    visit = Visit.get_for(current_user, visit_id)
    if visit.removed_at is not None:
        return _back(visit.case, _("Deze afspraak was al geannuleerd."))
    if not visit.planned or not visit.case.is_open:
        abort(404)
    form = CancelForm()
    if not form.validate_on_submit():
        return _reason_page("cancel", form, visit, 422)
    return _take_off(visit, form, "cancel", CANCEL_REASONS)


def _move_page(form: MoveForm, visit: Visit, status: int = 200, **extra: Any) -> Response:
    return render_page_or_block(
        "visits/move.html", "content", status, form=form, visit=visit, case=visit.case, **extra
    )


@bp.get("/visits/<int:visit_id>/move")
@login_required
def move_form(visit_id: int) -> Response:
    """Move a planned contact to another day or hour."""
    visit = _planned(visit_id)
    form = MoveForm(version=visit.version or 1)
    form.occurred_at.data = to_local(visit.occurred_at).replace(tzinfo=None)
    return _move_page(form, visit)


@bp.post("/visits/<int:visit_id>/move")
@login_required
def move(visit_id: int) -> Response:
    """Save the new moment of a planned contact, unless it changed meanwhile (409)."""
    visit = _planned(visit_id)
    case = visit.case
    form = MoveForm()
    if not form.validate_on_submit():
        return _move_page(form, visit, 422)
    new_time = to_utc(form.occurred_at.data)
    user = current_user._get_current_object()
    with database.atomic():
        if not _bump(visit, parse_version(form.version.data), occurred_at=new_time):
            stored = Visit.get_by_id(visit.id)
            if stored.removed_at is not None or not stored.planned:
                return _gone_plan(case)
            form.version.data = stored.version or 1
            return _move_page(form, stored, 409, conflict=_moment(stored.occurred_at))
        with in_team_language():
            detail = _(
                "Afspraak van %(before)s verplaatst naar %(after)s",
                before=_moment(visit.occurred_at),
                after=_moment(new_time),
            )
        CaseEvent.create(case=case, actor=user, kind="visit_moved", visit=visit, detail=detail)
        AuditEvent.record("move", visit, fields=["occurred_at"])
        case.touch()
    return _back(case, _("Afspraak verplaatst naar %(moment)s.", moment=_moment(new_time)))


def _gone_plan(case: Case) -> Response:
    return render_page_or_block(
        "cases/conflict.html",
        "content",
        409,
        case=case,
        message=_(
            "Deze afspraak werd intussen geregistreerd of geannuleerd. Bekijk het dossier opnieuw."
        ),
    )
