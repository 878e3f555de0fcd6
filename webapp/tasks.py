"""Te doen: the to-dos (taken) of a case — added on the case page or by a visit, ticked off and
opened again in place — and the list of everything a mediator still has to do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, StringField
from wtforms.validators import InputRequired, Optional, ValidationError

from webapp.forms import max_length, strip
from webapp.htmx import redirect_to, render_page_or_block, wants_fragment, with_trigger
from webapp.models import AuditEvent, Case, CaseEvent, Task, database
from webapp.timeutil import local_today

bp = Blueprint("tasks", __name__)

ALL_LIMIT = 100
DUE_AHEAD = dt.timedelta(days=366)


class TaskForm(FlaskForm):
    text = StringField(
        _l("Wat moet er gebeuren?"),
        filters=[strip],
        validators=[InputRequired(_l("Schrijf kort wat er te doen is.")), max_length(200)],
    )
    due = DateField(
        _l("Tegen wanneer"), invalid_value_message=_l("Vul een datum in."), validators=[Optional()]
    )

    def validate_due(self, field: Any) -> None:
        if field.data is None:
            return
        if field.data < local_today():
            raise ValidationError(_l("Deze datum is al voorbij."))
        if field.data > local_today() + DUE_AHEAD:
            raise ValidationError(_l("Deze datum kan niet kloppen."))


class MarkForm(FlaskForm):
    where = HiddenField()  # "today" when ticked on Vandaag: the row then names the client


def quick_dates() -> list[tuple[str, str]]:
    """Labels and ISO dates for the 'Tegen wanneer' shortcuts."""
    today = local_today()
    return [
        (_("vandaag"), today.isoformat()),
        (_("morgen"), (today + dt.timedelta(days=1)).isoformat()),
        (_("volgende week"), (today + dt.timedelta(days=7)).isoformat()),
    ]


def case_task_context(case: Case, form: TaskForm | None = None) -> dict[str, Any]:
    """What the case page shows under "Te doen" (templates/tasks/_case_tasks.html): one query."""
    return {
        "tasks": Task.open_for_case(case) if case.is_open else [],
        "task_form": form or TaskForm(formdata=None),
        "task_quick_dates": quick_dates(),
    }


def _open_case(case_id: int) -> Case:
    """The user's open case: 404 when not theirs, 409 when closed (nothing more to do)."""
    return Case.get_open_for(current_user, case_id)


@bp.get("/tasks/")
@login_required
def index() -> Response:
    """Everything still to do on my open cases (a coordinator may look at the team's)."""
    user = current_user._get_current_object()
    team = user.is_coordinator and request.args.get("scope") == "team"
    tasks = list(Task.open_on_open_cases(None if team else user).limit(ALL_LIMIT + 1))
    return render_page_or_block(
        "tasks/index.html",
        "content",
        tasks=tasks[:ALL_LIMIT],
        more=len(tasks) > ALL_LIMIT,
        limit=ALL_LIMIT,
        team=team,
    )


@bp.post("/cases/<int:case_id>/tasks")
@login_required
def create(case_id: int) -> Response:
    """Add a to-do to the case; the list shows it at once."""
    case = _open_case(case_id)
    form = TaskForm()
    if not form.validate_on_submit():
        return render_page_or_block(
            "tasks/new.html", "case_tasks", 422, case=case, **case_task_context(case, form)
        )
    user = current_user._get_current_object()
    with database.atomic():
        task = Task.add(case, form.text.data, form.due.data, user)
        CaseEvent.create(case=case, actor=user, kind="task_added", detail=task.text[:500])
        AuditEvent.record("create", task)
        case.touch()
    message = _("Taak toegevoegd.")
    if not wants_fragment():
        flash(message)
        return redirect_to(url_for("cases.show", case_id=case.id) + "#case-tasks")
    response = render_page_or_block(
        "tasks/new.html", "case_tasks", case=case, added=task.id, **case_task_context(case)
    )
    return with_trigger(response, "announce", message)


def _mark(task_id: int, done: bool) -> Response:
    """Tick a to-do off or open it again; the row stays where it is, with the other button."""
    user = current_user._get_current_object()
    task = Task.get_for(user, task_id)
    _open_case(task.case_id)
    form = MarkForm()
    if not form.validate_on_submit():
        abort(400)
    if task.mark(done, user):
        AuditEvent.record("update", task)
    elif task.is_done != done:
        task = Task.get_by_id(task.id)  # someone else changed it the other way in between
    message = (
        _("Taak gedaan: %(text)s", text=task.text)
        if task.is_done
        else _("Taak weer open: %(text)s", text=task.text)
    )
    where = form.where.data if form.where.data in ("today", "tasks") else ""
    if not wants_fragment():
        flash(message)
        target = {"today": url_for("today.index"), "tasks": url_for("tasks.index")}
        return redirect_to(target.get(where, url_for("cases.show", case_id=task.case_id)))
    response = render_page_or_block(
        "tasks/_task.html", "task", task=task, where=where, client=None, changed=True
    )
    return with_trigger(response, "announce", message)


@bp.post("/tasks/<int:task_id>/done")
@login_required
def done(task_id: int) -> Response:
    """Tick a to-do off."""
    return _mark(task_id, True)


@bp.post("/tasks/<int:task_id>/undo")
@login_required
def undo(task_id: int) -> Response:
    """Open a ticked-off to-do again (a mistap)."""
    return _mark(task_id, False)
