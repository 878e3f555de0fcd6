"""Participation thresholds (drempels) per case: added and edited in place on the case page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from webapp.cases.sections import case_threshold_context
from webapp.forms import max_length, options, parse_int, strip
from webapp.htmx import render_page_or_block, wants_fragment, with_trigger
from webapp.models import (
    THRESHOLD_STATUSES,
    AuditEvent,
    Case,
    CaseEvent,
    CaseThreshold,
    ThresholdCategory,
    database,
    in_team_language,
)
from webapp.timeutil import utcnow

bp = Blueprint("thresholds", __name__, url_prefix="/cases/<int:case_id>/thresholds")


class ThresholdForm(FlaskForm):
    status = RadioField(_l("Stand"), choices=options(THRESHOLD_STATUSES), default="open")
    note = TextAreaField(
        _l("Wat houdt de persoon tegen?"), filters=[strip], validators=[max_length(500)]
    )
    resolution = TextAreaField(_l("Hoe opgelost?"), filters=[strip], validators=[max_length(500)])
    signal = BooleanField(_l("Signaleren aan het netwerk"))
    note_shareable = BooleanField(_l("De notitie mag mee met het signaal (zonder namen)"))

    def validate_resolution(self, field: TextAreaField) -> None:
        if self.status.data == "resolved" and not field.data:
            raise ValidationError(_l("Schrijf kort hoe de drempel opgelost is."))


class NewThresholdForm(ThresholdForm):
    category = SelectField(
        _l("Soort drempel"), validators=[InputRequired(_l("Kies een soort drempel."))]
    )


class EditThresholdForm(ThresholdForm):
    version = HiddenField()


def _categories() -> list[SelectChoice]:
    ordered = ThresholdCategory.select().order_by(ThresholdCategory.position)
    return options([("", _("— kies —"))] + [(c.id, c.display_label) for c in ordered])


def _section(case: Case, status: int = 200, **extra: object) -> Response:
    """The thresholds section of the case (its own page, or the block that htmx swaps)."""
    return render_page_or_block(
        "thresholds/index.html",
        "section",
        status=status,
        case=case,
        **case_threshold_context(case),
        **extra,
    )


def _item(
    case: Case, threshold: CaseThreshold, block: str = "item", status: int = 200, **extra: object
) -> Response:
    return render_page_or_block(
        "thresholds/item.html", block, status=status, case=case, t=threshold, **extra
    )


@bp.get("/")
@login_required
def index(case_id: int) -> Response:
    """The thresholds of a case, on a page of their own (the case page includes them too)."""
    case = Case.get_for(current_user, case_id)
    return _section(case)


@bp.get("/new")
@login_required
def new(case_id: int) -> Response:
    """The form to note a threshold."""
    case = Case.get_open_for(current_user, case_id)
    form = NewThresholdForm(formdata=None)
    form.category.choices = _categories()
    return render_page_or_block("thresholds/new.html", "add", case=case, form=form)


@bp.post("/")
@login_required
def create(case_id: int) -> Response:
    """Note a threshold on the case; the timeline records it."""
    case = Case.get_open_for(current_user, case_id)
    form = NewThresholdForm()
    form.category.choices = _categories()
    if not form.validate_on_submit():
        return render_page_or_block("thresholds/new.html", "add", status=422, case=case, form=form)
    category = ThresholdCategory.get_by_id(int(form.category.data))
    with database.atomic():
        threshold = CaseThreshold.create(
            case=case,
            category=category,
            note=form.note.data,
            status=form.status.data,
            resolution=form.resolution.data if form.status.data != "open" else "",
            signal=form.signal.data,
            note_shareable=form.note_shareable.data,
            created_by=current_user._get_current_object(),
            resolved_at=utcnow() if form.status.data == "resolved" else None,
        )
        with in_team_language():
            detail = f"{category.label} · {threshold.status_label}"
        CaseEvent.create(
            case=case,
            actor=current_user._get_current_object(),
            kind="threshold_added",
            detail=detail,
        )
        case.touch()
        AuditEvent.record("create", threshold)
    if not wants_fragment():
        return redirect(url_for("thresholds.index", case_id=case.id), 303)
    response = _section(case, added=threshold.id)
    response.headers["HX-Retarget"] = "#case-thresholds"
    response.headers["HX-Reswap"] = "outerHTML"
    return with_trigger(
        response, "announce", _("Drempel %(label)s genoteerd.", label=category.display_label)
    )


@bp.get("/<int:threshold_id>")
@login_required
def show(case_id: int, threshold_id: int) -> Response:
    """One threshold, as shown in the list (the edit widget's "cancel")."""
    case = Case.get_for(current_user, case_id)
    return _item(case, CaseThreshold.get_for_case(case, threshold_id))


@bp.get("/<int:threshold_id>/edit")
@login_required
def edit(case_id: int, threshold_id: int) -> Response:
    """The threshold as a small form, swapped in place."""
    case = Case.get_open_for(current_user, case_id)
    threshold = CaseThreshold.get_for_case(case, threshold_id)
    form = EditThresholdForm(formdata=None, obj=threshold, prefix=f"t{threshold.id}")
    return _item(case, threshold, block="edit", form=form)


@bp.post("/<int:threshold_id>")
@login_required
def update(case_id: int, threshold_id: int) -> Response:
    """Save the edited threshold unless someone else saved it first (409 with their version)."""
    case = Case.get_open_for(current_user, case_id)
    threshold = CaseThreshold.get_for_case(case, threshold_id)
    form = EditThresholdForm(prefix=f"t{threshold.id}")
    if not form.validate_on_submit():
        return _item(case, threshold, block="edit", status=422, form=form)
    expected = parse_int(form.version.data)
    if expected is None:
        abort(400)
    was_signalled = threshold.signal
    form.populate_obj(threshold)
    if threshold.status == "open":
        threshold.resolution = ""
    with database.atomic():
        if not threshold.save_if_unchanged(expected):
            fresh = CaseThreshold.get_for_case(case, threshold_id)
            return _item(case, fresh, status=409, conflict=True)
        with in_team_language():
            detail = f"{threshold.category.label} · {threshold.status_label}"
            if threshold.signal and not was_signalled:
                detail += " · " + _("gesignaleerd")
        CaseEvent.create(
            case=case,
            actor=current_user._get_current_object(),
            kind="threshold_updated",
            detail=detail,
        )
        case.touch()
        AuditEvent.record("update", threshold)
    if not wants_fragment():
        return redirect(url_for("thresholds.index", case_id=case.id), 303)
    return with_trigger(_item(case, threshold), "announce", _("Drempel bewaard."))
