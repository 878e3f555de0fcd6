"""Enrolment from a case: enrol the client, record attendance, stop an enrolment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.activities import bp
from webapp.activities.forms import (
    DEFAULT_SESSION_MINUTES,
    AttendanceForm,
    EnrolForm,
    StopForm,
)
from webapp.cases.sections import case_offer_context
from webapp.htmx import redirect_to, render_page_or_block, wants_fragment, with_trigger
from webapp.models import (
    MEETING_POINTS,
    AccessLink,
    Activity,
    AuditEvent,
    Case,
    Enrolment,
    Session,
    database,
    guess_next_session,
)
from webapp.timeutil import local_today, to_utc

WEEK = dt.timedelta(days=7)
OFFER_PIECES = {
    "offer": "activities/_case_enrolments.html",
    "client_link": "activities/_client_link.html",
    "enrolment": "activities/_enrolment.html",
}


def case_offer_fragment(
    case: Case,
    announce: str | None = None,
    piece: str = "offer",
    enrolment_id: int | None = None,
    **extra: Any,
) -> Response:
    """A piece of the case page's offer section for htmx — the whole section, the client-link
    card, or one enrolment's card (so a share panel elsewhere stays) — or back to the case."""
    if not wants_fragment():
        if announce:
            flash(announce)
        return redirect_to(url_for("cases.show", case_id=case.id) + "#case-offer")
    context = case_offer_context(case, current_user.id)
    if piece == "enrolment":
        enrolment = next((e for e in context["enrolments"] if e.id == enrolment_id), None)
        if enrolment is None:
            abort(404)
        extra["e"] = enrolment
    body = render_template(OFFER_PIECES[piece], case=case, **context, **extra)
    response = Response(body)
    response.vary.add("HX-Request")
    return with_trigger(response, "announce", announce) if announce else response


def open_case(case_id: int) -> Case:
    """A case the user may see and change: 404 when not theirs, 409 when it is closed."""
    return Case.get_open_for(current_user, case_id)


@bp.get("/cases/<int:case_id>/enrol/<int:activity_id>")
@login_required
def enrol_form(case_id: int, activity_id: int) -> str:
    """Enrol the client of a case: cost arrangement and the first session."""
    case = open_case(case_id)
    activity = Activity.get_with_provider(activity_id)
    guess = guess_next_session(activity.schedule, local_today())
    form = EnrolForm(
        reduced_possible=activity.price_reduced_cents is not None,
        free=activity.price_full_cents == 0,
        cost_arrangement=activity.default_arrangement(case.client.has_valid_card),
        first_date=guess.day,
        first_time=guess.start,
        duration_minutes=guess.minutes or DEFAULT_SESSION_MINUTES,
    )
    return render_template(
        "activities/enrol.html",
        case=case,
        activity=activity,
        form=form,
        guessed=guess.day is not None or guess.start is not None,
    )


@bp.post("/cases/<int:case_id>/enrol/<int:activity_id>")
@login_required
def enrol(case_id: int, activity_id: int) -> Response | tuple[str, int]:
    """Save the enrolment and its sessions; this completes the step 'Inschrijving'."""
    case = open_case(case_id)
    activity = Activity.get_with_provider(activity_id)
    if activity.archived:
        abort(404)
    form = EnrolForm(
        reduced_possible=activity.price_reduced_cents is not None,
        free=activity.price_full_cents == 0,
    )
    duplicate = (
        Enrolment.select()
        .where(Enrolment.case == case, Enrolment.activity == activity, Enrolment.status == "active")
        .exists()
    )
    if duplicate or not form.validate_on_submit():
        html = render_template(
            "activities/enrol.html", case=case, activity=activity, form=form, duplicate=duplicate
        )
        return html, 422
    first = dt.datetime.combine(form.first_date.data, form.first_time.data)
    starts = [to_utc(first + i * WEEK) for i in range(1 + (form.weekly.data or 0))]
    enrolment = Enrolment.enrol(
        case,
        activity,
        current_user,
        cost_arrangement=form.cost_arrangement.data,
        starts=starts,
        duration=dt.timedelta(minutes=form.duration_minutes.data),
        meeting_point=form.meeting_point.data or "",
        go_along=form.go_along.data,
        meeting_point_key=form.meeting_point_key.data
        if form.meeting_point_key.data in MEETING_POINTS
        else None,
    )
    AuditEvent.record("create", enrolment)
    flash(
        _(
            "%(name)s is ingeschreven voor %(title)s.",
            name=case.client.first_name,
            title=activity.title,
        )
    )
    return redirect_to(url_for("cases.show", case_id=case.id) + "#case-offer")


@bp.post("/cases/<int:case_id>/sessions/<int:session_id>/attendance")
@login_required
def attendance(case_id: int, session_id: int) -> Response | tuple[str, int]:
    """The mediator records who came; the first presence completes 'Eerste keer samen'."""
    case = open_case(case_id)
    session = Session.get_for_case(case, session_id)
    form = AttendanceForm()
    if not session.can_record_attendance:
        form.attendance.errors = [_("Deze activiteit is nog niet begonnen.")]
    elif form.validate_on_submit():
        session.record_attendance(
            form.attendance.data, form.remark.data or "", via="mediator", by=current_user
        )
        AuditEvent.record("update", session, object_type="session")
        return case_offer_fragment(
            case, _("Aanwezigheid bewaard."), "enrolment", session.enrolment_id
        )
    return render_page_or_block(
        "activities/attendance_form.html",
        "attendance",
        status=422,
        case=case,
        session=session,
        form=form,
    )


@bp.get("/cases/<int:case_id>/enrolments/<int:enrolment_id>/stop")
@login_required
def stop_form(case_id: int, enrolment_id: int) -> str:
    """Ask why the enrolment stops."""
    case = open_case(case_id)
    enrolment = Enrolment.get_for_case(case, enrolment_id)
    return render_template("activities/stop.html", case=case, enrolment=enrolment, form=StopForm())


@bp.post("/cases/<int:case_id>/enrolments/<int:enrolment_id>/stop")
@login_required
def stop(case_id: int, enrolment_id: int) -> Response | tuple[str, int]:
    """Stop an enrolment with a reason; its later sessions and provider link end."""
    case = open_case(case_id)
    enrolment = Enrolment.get_for_case(case, enrolment_id)
    form = StopForm()
    if not enrolment.is_active:
        return redirect_to(url_for("cases.show", case_id=case.id) + "#case-offer")
    if not form.validate_on_submit():
        html = render_template("activities/stop.html", case=case, enrolment=enrolment, form=form)
        return html, 422
    with database.atomic():
        enrolment.stop(current_user, form.reason.data, form.note.data or "")
        AccessLink.revoke_for(enrolment=enrolment)
    AuditEvent.record("update", enrolment)
    flash(_("De inschrijving voor %(title)s is gestopt.", title=enrolment.activity.title))
    return redirect_to(url_for("cases.show", case_id=case.id) + "#case-offer")
