"""Recording contacts with a client (contact registreren) and planned ones, with the to-do a
contact leaves."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from htmx_flask import request
from peewee import IntegrityError, fn

from webapp.cases.forms import parse_version
from webapp.htmx import redirect_to, render_page_or_block, with_trigger
from webapp.models import AuditEvent, Case, CaseEvent, Task, Visit, database
from webapp.timeutil import utcnow
from webapp.visits.forms import (
    DURATION_CHOICES,
    VisitForm,
    form_from_planned,
    new_form,
    quick_dates,
    type_defaults,
    type_order,
)

bp = Blueprint("visits", __name__)


def wants_json() -> bool:
    """The offline queue of the app asks for JSON answers."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and "text/html" not in request.accept_mimetypes.values()


def _open_case(case_id: int) -> Case:
    """The user's open case: 404 when not theirs, 409 when closed (nothing more to record)."""
    return Case.get_open_for(current_user, case_id)


def form_context(
    form: VisitForm, case: Case, visit: Visit | None = None, mode: str = "new"
) -> dict[str, Any]:
    """What the visit form shows: the mediator's usual contact types first, each type's usual
    duration and place, and whether this records, registers a plan or corrects (`mode`)."""
    top, more = type_order(Visit.most_used_types(current_user), form.contact_type.data)
    mode = mode if visit else "new"
    headings = {
        "new": _("Contact registreren"),
        "register": _("Gepland contact registreren"),
        "correct": _("Contact aanpassen"),
    }
    return {
        "heading": headings[mode],
        "summary": form.summary(),
        "form": form,
        "case": case,
        "visit": visit,
        "mode": mode,
        "top_types": top,
        "more_types": more,
        "type_defaults": type_defaults(case),
        "duration_choices": DURATION_CHOICES,
        "quick_dates": quick_dates(),
        "draft_key": f"{current_user.id}:{case.id}:{mode}:{visit.id if visit else ''}",
    }


def _render_form(
    form: VisitForm, case: Case, visit: Visit | None = None, status: int = 200, **extra: Any
) -> Response:
    mode = "register" if visit else "new"
    return render_page_or_block(
        "visits/form.html",
        "visit_form",
        status=status,
        **form_context(form, case, visit, mode),
        **extra,
    )


def _saved(case: Case, message: str) -> Response:
    """Back to the case page, with the message announced there."""
    url = url_for("cases.show", case_id=case.id)
    flash(message)
    if request.htmx:
        return with_trigger(redirect_to(url), "announce", message)
    return redirect_to(url)


def _record_effects(case: Case, visit: Visit, kind: str) -> None:
    """What a saved visit does to the case: timeline, Kennismaking, last touched."""
    user = current_user._get_current_object()
    CaseEvent.create(case=case, actor=user, kind=kind, visit=visit, detail=str(visit.contact_label))
    if (
        visit.contact_made
        and not visit.planned
        and case.complete_step_by_event("first_contact", user)
    ):
        case.refresh_position()
    case.touch()


def _plan_task(form: VisitForm, case: Case, visit: Visit) -> None:
    """The to-do typed on the form becomes a task of the case, linked to this visit."""
    if todo := form.task():
        Task.add(case, *todo, current_user._get_current_object(), source="visit", visit=visit)


def _json_refusal(case_id: int) -> tuple[Response, int] | None:
    """The offline queue's answer when the case was closed or given to someone else since."""
    case = Case.get_or_none(Case.id == case_id)
    if case is None:
        return None
    visible = Case.visible_to(current_user).where(Case.id == case_id).exists()
    if visible and not case.is_open:
        message = _("Dit dossier is intussen afgerond; het contact is niet bewaard.")
        return jsonify(status="closed", message=message), 409
    was_mine = (
        CaseEvent.select()
        .where(CaseEvent.case == case_id, CaseEvent.actor == current_user.id)
        .exists()
    )
    if not visible and was_mine:
        message = _(
            "Dit dossier is intussen aan iemand anders toegewezen; het contact is niet bewaard."
        )
        return jsonify(status="reassigned", message=message), 409
    return None


@bp.get("/cases/<int:case_id>/visits/new")
@login_required
def new(case_id: int) -> Response:
    """The form to record a contact."""
    case = _open_case(case_id)
    return _render_form(new_form(case), case)


@bp.post("/cases/<int:case_id>/visits")
@login_required
def create(case_id: int) -> Response | tuple[Response, int]:
    """Save a contact once, however often the same form is sent."""
    as_json = wants_json()
    key = (request.form.get("idempotency_key") or "").strip()
    earlier = Visit.by_key(key) if key else None
    if earlier and earlier.case_id == case_id and earlier.mediator_id == current_user.id:
        if as_json:
            return jsonify(status="duplicate", visit_id=earlier.id), 200
        return _saved(Case.get_for(current_user, case_id), _("Dit contact was al bewaard."))
    if as_json and (refusal := _json_refusal(case_id)) is not None:
        return refusal
    case = _open_case(case_id)
    form = new_form(case)
    if not form.validate():
        if as_json:
            errors = {name: str(messages[0]) for name, messages in form.errors.items()}
            return jsonify(status="invalid", errors=errors), 422
        return _render_form(form, case, status=422)
    user = current_user._get_current_object()
    try:
        with database.atomic():
            visit = Visit.create(
                case=case,
                mediator=user,
                idempotency_key=form.idempotency_key.data,
                recorded_at=None if form.planned.data else utcnow(),
                **form.values(),
            )
            _record_effects(case, visit, "visit_planned" if visit.planned else "visit")
            _plan_task(form, case, visit)
            AuditEvent.record("create", visit)
    except IntegrityError:
        # The same key, sent twice at the same moment: the other request saved it.
        if as_json:
            return jsonify(status="duplicate"), 200
        return _saved(case, _("Dit contact was al bewaard."))
    if as_json:
        return jsonify(status="created", visit_id=visit.id), 201
    return _saved(case, _("Gepland contact bewaard.") if visit.planned else _("Contact bewaard."))


@bp.get("/visits/<int:visit_id>/edit")
@login_required
def edit(visit_id: int) -> Response:
    """Record a planned contact: the form, prefilled from the plan."""
    visit = Visit.get_for(current_user, visit_id)
    if not visit.planned or visit.removed_at is not None:
        abort(404)
    _open_case(visit.case_id)
    return _render_form(form_from_planned(visit), visit.case, visit)


@bp.post("/visits/<int:visit_id>")
@login_required
def update(visit_id: int) -> Response:
    """Save what happened at a planned contact; the plan becomes the visit (same row)."""
    visit = Visit.get_for(current_user, visit_id)
    case = _open_case(visit.case_id)
    if not visit.planned:
        # Sent twice: the first one already recorded it.
        return _saved(case, _("Dit contact was al bewaard."))
    if visit.removed_at is not None:
        return _cancelled_meanwhile(case)
    form = form_from_planned(visit)
    form.idempotency_key.data = visit.idempotency_key
    if not form.validate():
        return _render_form(form, case, visit, status=422)
    # The version guards against a plan moved or cancelled meanwhile (a form without it, from
    # before versions, still registers).
    expected = parse_version(form.version.data)
    still = [Visit.id == visit.id, Visit.planned == True, Visit.kept()]  # noqa: E712
    if expected is not None:
        still.append(fn.COALESCE(Visit.version, 1) == expected)
    with database.atomic():
        changed = (
            Visit.update(
                **form.values(),
                recorded_at=None if form.planned.data else utcnow(),
                version=fn.COALESCE(Visit.version, 1) + 1,
            )
            .where(*still)
            .execute()
        )
        if not changed:
            stored = Visit.get_by_id(visit.id)
            if stored.removed_at is not None:
                return _cancelled_meanwhile(case)
            if not stored.planned:
                return _saved(case, _("Dit contact was al bewaard."))
            form.version.data = stored.version or 1
            return _render_form(form, case, stored, status=409, moved=stored.occurred_at)
        visit = Visit.get_by_id(visit.id)
        _record_effects(case, visit, "visit_planned" if visit.planned else "visit")
        _plan_task(form, case, visit)
        AuditEvent.record("update", visit)
    return _saved(case, _("Gepland contact aangepast.") if visit.planned else _("Contact bewaard."))


def _cancelled_meanwhile(case: Case) -> Response:
    """409: the plan was cancelled while the form was open; the case page shows what is left."""
    message = _("Deze afspraak werd intussen geannuleerd. Je registratie is niet bewaard.")
    return render_page_or_block("cases/conflict.html", "content", 409, case=case, message=message)


from webapp.visits import corrections  # noqa: E402, F401  (its views join this blueprint)
