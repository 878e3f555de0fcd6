"""Cases: the caseload, a new client with a case, the case page with its step tracker and
timeline, editing the client, closing, reopening and (for coordinators) reassigning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp import models
from webapp.auth import coordinator_required
from webapp.cases.forms import (
    AnonymiseForm,
    AssignForm,
    CaseloadFilters,
    ClientForm,
    CloseForm,
    NewCaseForm,
    StepForm,
    VersionForm,
    parse_version,
)
from webapp.cases.sections import case_offer_context, case_threshold_context
from webapp.db import together
from webapp.forms import options, parse_int
from webapp.htmx import (
    first_pages,
    load_more,
    redirect_to,
    render_blocks_fragment,
    render_page_or_block,
    wants_fragment,
    with_trigger,
)
from webapp.models import (
    CARD_TYPES,
    EVENT_LABELS,
    LANGUAGES,
    TEAM_PAGE_SIZE,
    AuditEvent,
    Case,
    CaseEvent,
    CaseStep,
    Client,
    Referral,
    StepDefinition,
    Task,
    User,
    anonymise_client,
    can_anonymise,
    database,
    team_for_assigning,
    team_page,
)
from webapp.tasks import case_task_context
from webapp.timeutil import utcnow
from webapp.twofactor import recent_login_required

bp = Blueprint("cases", __name__, url_prefix="/cases")
PAGE_SIZE = 25


@bp.before_request
@login_required
def _require_login() -> None:
    """Every screen of this area is for the team only."""


def _int_arg(name: str) -> int | None:
    return parse_int(request.args.get(name))


@bp.get("/")
def index() -> Response:
    """My cases (a coordinator may look at everyone's), with search, filters and paging."""
    user = current_user._get_current_object()
    steps = list(StepDefinition.ordered())
    mediators, choose_elsewhere = _whose_choice(user)
    form = CaseloadFilters(request.args, steps, mediators, team=user.is_coordinator)
    query = Case.caseload(
        user,
        q=form.q.data,
        position=form.step.data,
        status=form.status.data,
        mediator_id=form.mediator_id(user.id),
        referred=Referral.cases_with_reference(form.q.data),
    )
    page = form.page.data
    cases, more, rows_only = load_more(query, page, PAGE_SIZE)
    Case.with_last_contacts(cases)
    filters = form.chosen()
    return render_page_or_block(
        "cases/index.html",
        "rows" if rows_only else "results",
        cases=cases,
        first_tasks=Task.first_open_for([c.id for c in cases]),
        steps=steps,
        total_steps=len(steps),
        mediators=mediators,
        choose_elsewhere=choose_elsewhere,
        filters=filters,
        args=form.link_args(),
        page=page,
        more=more,
    )


# A coordinator's "Van wie" lists every colleague up to this many; a city network of hundreds
# finds one by name on a page of its own ("Een collega kiezen", cases.colleagues).
COLLEAGUES_IN_CHOICE = 30


def _whose_choice(user: User) -> tuple[list[Any], bool]:
    """The colleagues the "Van wie" choice lists (only the columns it shows, as plain rows), and
    whether the team is too big for that, so that one is chosen on a page of their own: then
    only the colleague already chosen is listed."""
    if not user.is_coordinator:
        return [], False
    chosen = parse_int(request.args.get("who")) or 0
    # One query at any size: the chosen colleague first, then the team by name.
    rows = list(
        User.mediators()
        .select(User.id, User.name)
        .order_by((User.id == chosen).desc(), User.name, User.id)
        .limit(COLLEAGUES_IN_CHOICE + 1)
        .namedtuples()
    )
    if len(rows) <= COLLEAGUES_IN_CHOICE:
        return sorted(rows, key=lambda m: (m.name, m.id)), False
    return [m for m in rows[:1] if m.id == chosen], True


@bp.get("/collegas")
@coordinator_required
def colleagues() -> Response:
    """(Coordinator) whose cases to look at, in a team too big for one list: found by name,
    TEAM_PAGE_SIZE at a time, each with their open cases."""
    typed = (request.args.get("q") or "").strip()[:100]
    team, page, next_page = first_pages(
        lambda limit: team_page(team_for_assigning(typed), limit), TEAM_PAGE_SIZE
    )
    return render_page_or_block(
        "cases/colleagues.html", "list", team=team, q=typed, page=page, next_page=next_page
    )


def _mediator_choices(form: NewCaseForm, user: User) -> None:
    form.mediator.choices = options((m.id, m.name) for m in User.mediators())
    if request.method == "GET":
        form.mediator.data = user.id


@bp.get("/new")
def new() -> Response:
    """The short form for a new client and their case."""
    form = NewCaseForm()
    return _new_page(form)


def _new_page(form: NewCaseForm, status: int = 200, **context: Any) -> Response:
    user = current_user._get_current_object()
    if user.is_coordinator:
        _mediator_choices(form, user)
    else:
        del form.mediator
    return render_page_or_block("cases/new.html", "form", status, form=form, **context)


@bp.post("/new")
def create() -> Response:
    """Create the client and the case; first warn about a probable duplicate."""
    user = current_user._get_current_object()
    form = NewCaseForm()
    if user.is_coordinator:
        _mediator_choices(form, user)
    else:
        del form.mediator
    if not form.validate_on_submit():
        return _new_page(form, 422)
    fields = form.client_fields()
    if not form.create_anyway.data:
        duplicates = list(
            Client.probable_duplicates(
                fields["first_name"], fields["last_name"], fields["birth_date"]
            )
        )
        if duplicates:
            visible = list(
                Case.visible_to(user)
                .where(Case.client.in_([c.id for c in duplicates]))
                .order_by(Case.opened_at.desc())
            )
            by_client = {
                c.id: [case for case in visible if case.client_id == c.id] for c in duplicates
            }
            return _new_page(form, duplicates=duplicates, duplicate_cases=by_client)
    mediator = user
    if user.is_coordinator:
        mediator = User.get_by_id(form.mediator.data)
    with database.atomic():
        client = Client.create(**fields)
        case = Case.open_for(
            client,
            mediator,
            by=user,
            source=form.source.data,
            question=form.question.data or "",
            interests=",".join(form.interests.data or []),
        )
        if mediator.id != user.id:
            # Opened for a colleague (a walk-in at someone else's permanentie): they start
            # with a to-do on their Vandaag, as for a referral.
            models.first_contact_task(case, "", utcnow(), user)
        AuditEvent.record("create", client)
        AuditEvent.record("create", case)
    flash(_("Dossier van %(name)s geopend.", name=client.full_name))
    return redirect_to(url_for("cases.show", case_id=case.id))


def _tracker_context(
    case: Case, steps: Sequence[CaseStep] | None = None, **extra: Any
) -> dict[str, Any]:
    steps = case.steps() if steps is None else steps
    current = next((s for s in steps if s.status == "todo"), None)
    done = sum(1 for s in steps if s.status != "todo")
    return {"case": case, "steps": steps, "current": current, "done_count": done, **extra}


def _page_context(case: Case) -> dict[str, Any]:
    """Every section of the case page. Its queries need no answer of another: they are sent
    before any is read (db.together), and PostgreSQL answers them in two round trips (the
    sections that read what they sent at once come last), not twelve."""
    with together():
        steps = case.steps()
        tasks = case_task_context(case)
        planned = models.Visit.planned_for(case)
        timeline = (CaseEvent.timeline(case), Task.on_timeline(case))
        return {
            "client": case.client,
            **tasks,
            "planned_visits": planned,
            **case_offer_context(case, current_user.id),
            **case_threshold_context(case),
            **_timeline_context(case, *timeline),
            **_tracker_context(case, steps),
        }


def _timeline_context(
    case: Case, timeline: Sequence[CaseEvent] | None = None, tasks: Sequence[Task] | None = None
) -> dict[str, Any]:
    """The timeline and the to-dos of its contacts (both as sent, when given)."""
    timeline = CaseEvent.timeline(case) if timeline is None else timeline
    tasks = Task.on_timeline(case) if tasks is None else tasks
    # What each contact left to do ("Te doen: Turnclub Hoboken bellen, tegen 9 dec").
    visit_tasks: dict[int, list[Task]] = {}
    for task in tasks:
        visit_tasks.setdefault(task.visit_id, []).append(task)  # type: ignore[arg-type]  # set: asked for
    return {"timeline": timeline, "event_labels": EVENT_LABELS, "visit_tasks": visit_tasks}


@bp.get("/<int:case_id>")
def show(case_id: int) -> Response:
    """The case page: who, where they are on the way, what comes next, what happened."""
    case = Case.get_for(current_user, case_id)
    AuditEvent.record("view", case)
    return render_page_or_block("cases/show.html", "tracker", **_page_context(case))


def _tracker(case: Case, status: int = 200, **extra: Any) -> Response:
    """The step tracker alone for htmx, else the whole case page."""
    if wants_fragment():
        context = _tracker_context(case, **extra)
    else:
        context = {**_page_context(case), **extra}
    return render_page_or_block("cases/show.html", "tracker", status, **context)


@bp.post("/<int:case_id>/steps/<int:step_id>")
def update_step(case_id: int, step_id: int) -> Response:
    """Mark one step done, skipped or back to do, with an optional note."""
    user = current_user._get_current_object()
    case = Case.get_for(user, case_id)
    case_step = (
        CaseStep.select(CaseStep, StepDefinition)
        .join(StepDefinition)
        .where(CaseStep.case == case, CaseStep.step == step_id)
        .first()
    )
    if case_step is None:
        abort(404)
    form = StepForm()
    expanded = form.expanded.data == "1"
    label = case_step.step.display_label
    if not form.validate_on_submit():
        errors = [e for field in form for e in field.errors]
        return _tracker(case, 422, step_error=(step_id, errors[0]), expanded=True)
    if not case.is_open:
        return _tracker(
            case, 409, conflict=_("Dit dossier is afgerond. Heropen het om stappen te wijzigen.")
        )
    if case_step.step.completed_by == "case_closed" and form.status.data == "done":
        return _tracker(
            case,
            422,
            step_error=(step_id, _("Rond het dossier af via ‘Dossier afronden’.")),
            expanded=True,
        )
    with database.atomic():
        if not case.bump_version(form.version.data):
            conflict = _(
                "Iemand anders wijzigde dit dossier terwijl jij keek. Dit zijn de stappen zoals "
                "ze nu zijn; kijk na of je wijziging nog nodig is."
            )
            return _tracker(case, 409, conflict=conflict, expanded=expanded)
        case_step.set_status(form.status.data, user, note=form.note.data or "")
        case.refresh_position()
    message = {
        "done": _("Stap %(label)s gedaan.", label=label),
        "skipped": _("Stap %(label)s overgeslagen.", label=label),
        "todo": _("Stap %(label)s staat weer open.", label=label),
    }[form.status.data]
    if not wants_fragment():
        flash(message)
        return redirect_to(url_for("cases.show", case_id=case.id) + "#step-tracker")
    # The tracker, and the timeline that now starts with this change.
    response = render_blocks_fragment(
        "cases/show.html",
        ["tracker", "timeline"],
        **_tracker_context(case, changed=step_id, expanded=expanded),
        **_timeline_context(case),
    )
    return with_trigger(response, "announce", message)


def _display(name: str, value: Any) -> str:
    """A client's field value as a person reads it, for the 'what changed' comparison."""
    if value in (None, ""):
        return "—"
    if name == "language":
        return LANGUAGES.get(value, value)
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if name == "card_type":
        return str(CARD_TYPES.get(value, value))
    if hasattr(value, "strftime"):
        return value.strftime("%d-%m-%Y")
    return str(value)


def _client_case(case_id: int) -> Case:
    """The case whose client is edited: on a closed case only a coordinator still corrects the
    details (a request for rectification); a mediator reopens the case first (409)."""
    if current_user.is_coordinator:
        return Case.get_for(current_user, case_id)
    return Case.get_open_for(current_user, case_id)


@bp.get("/<int:case_id>/client")
def edit_client(case_id: int) -> Response:
    """The client's details, to correct or complete."""
    case = _client_case(case_id)
    form = ClientForm(obj=case.client)
    form.version.data = case.client.version
    return render_page_or_block("cases/client.html", "form", case=case, form=form)


@bp.post("/<int:case_id>/client")
def update_client(case_id: int) -> Response:
    """Save the client's details, unless someone else saved them in between (409)."""
    user = current_user._get_current_object()
    case = _client_case(case_id)
    client = case.client
    form = ClientForm()
    if not form.validate_on_submit():
        return render_page_or_block("cases/client.html", "form", 422, case=case, form=form)
    values = form.values()
    # "" / None / False are the same "nothing" (needs_interpreter is None on older rows).
    changed = [
        name for name in form.FIELDS if (values[name] or None) != (getattr(client, name) or None)
    ]
    with database.atomic():
        saved = (
            Client.update(**values, version=Client.version + 1, updated_at=utcnow())
            .where(Client.id == client.id, Client.version == parse_version(form.version.data))
            .execute()
        )
        if saved and changed:
            with models.in_team_language():
                labels = ", ".join(str(getattr(form, name).label.text).lower() for name in changed)
            CaseEvent.create(case=case, actor=user, kind="client_updated", detail=labels[:500])
            # Rectification (GDPR art. 16) is audited with the names of the corrected fields.
            AuditEvent.record("update", client, fields=changed)
    if not saved:
        stored = Client.get_by_id(client.id)
        differences = [
            (
                getattr(form, name).label.text,
                _display(name, values[name]),
                _display(name, getattr(stored, name)),
            )
            for name in form.FIELDS
            if values[name] != getattr(stored, name)
        ]
        form.version.data = stored.version
        if differences:
            return render_page_or_block(
                "cases/client.html", "form", 409, case=case, form=form, differences=differences
            )
    flash(_("Gegevens van %(name)s bewaard.", name=values["first_name"]))
    return redirect_to(url_for("cases.show", case_id=case.id))


@bp.get("/<int:case_id>/close")
def close_form(case_id: int) -> Response:
    """How the case ends: the outcome and a note."""
    case = Case.get_for(current_user, case_id)
    form = CloseForm(version=case.version)
    return render_page_or_block("cases/close.html", "form", case=case, form=form)


@bp.post("/<int:case_id>/close")
def close(case_id: int) -> Response:
    """Close the case with its outcome; 'Afronding' is then done."""
    user = current_user._get_current_object()
    case = Case.get_for(user, case_id)
    form = CloseForm()
    if not form.validate_on_submit():
        return render_page_or_block("cases/close.html", "form", 422, case=case, form=form)
    if not case.is_open:
        return _conflict(case, _("Dit dossier is al afgerond."))
    with database.atomic():
        if not case.bump_version(parse_version(form.version.data) or 0):
            form.version.data = case.version
            return render_page_or_block(
                "cases/close.html", "form", 409, case=case, form=form, conflict=True
            )
        reason = form.reason.data if form.outcome.data == "stopped" else ""
        case.close(form.outcome.data, reason, form.note.data or "", user)
        AuditEvent.record("update", case)
    flash(_("Dossier afgerond."))
    return redirect_to(url_for("cases.show", case_id=case.id))


def _conflict(case: Case, message: str) -> Response:
    return render_page_or_block("cases/conflict.html", "content", 409, case=case, message=message)


@bp.post("/<int:case_id>/reopen")
def reopen(case_id: int) -> Response:
    """Open a closed case again."""
    user = current_user._get_current_object()
    case = Case.get_for(user, case_id)
    form = VersionForm()
    if not form.validate_on_submit() or case.is_open:
        return _conflict(case, _("Dit dossier is al heropend."))
    with database.atomic():
        if not case.bump_version(parse_version(form.version.data) or 0):
            return _conflict(case, _("Iemand anders wijzigde dit dossier net. Bekijk het opnieuw."))
        case.reopen(user)
        AuditEvent.record("update", case)
    flash(_("Dossier heropend."))
    return redirect_to(url_for("cases.show", case_id=case.id))


@bp.get("/<int:case_id>/anonymise")
@coordinator_required
@recent_login_required
def anonymise_form(case_id: int) -> Response:
    """(Coordinator) what erasing the client's personal data does, and the button."""
    case = Case.get_for(current_user, case_id)
    return _anonymise_page(case, AnonymiseForm())


def _anonymise_page(case: Case, form: AnonymiseForm, status: int = 200) -> Response:
    return render_page_or_block(
        "cases/anonymise.html",
        "form",
        status,
        case=case,
        form=form,
        allowed=can_anonymise(case.client),
    )


@bp.post("/<int:case_id>/anonymise")
@coordinator_required
@recent_login_required
def anonymise(case_id: int) -> Response:
    """(Coordinator) erase the client's personal data for good; the figures keep counting."""
    case = Case.get_for(current_user, case_id)
    if not can_anonymise(case.client):
        return _anonymise_page(case, AnonymiseForm(), 409)
    form = AnonymiseForm()
    if not form.validate_on_submit():
        return _anonymise_page(case, form, 422)
    anonymise_client(case.client, current_user._get_current_object())
    flash(_("De persoonsgegevens zijn gewist."))
    return redirect_to(url_for("cases.show", case_id=case.id))


AUDIT_PAGE_SIZE = 50


@bp.get("/<int:case_id>/audit")
@coordinator_required
def audit(case_id: int) -> Response:
    """(Coordinator) who viewed or changed this case and its client, and when: to answer a
    client who asks who saw their file, or to check that nobody looked who should not have."""
    case = Case.get_for(current_user, case_id)
    before = _int_arg("before")  # "load more": the events older than this one
    rows = list(AuditEvent.for_case(case, before=before).limit(AUDIT_PAGE_SIZE + 1))
    if before is None:
        AuditEvent.record("audit", case)
    events = rows[:AUDIT_PAGE_SIZE]
    return render_page_or_block(
        "cases/audit.html",
        "events",
        case=case,
        events=events,
        next_before=events[-1].id if len(rows) > AUDIT_PAGE_SIZE else None,
    )


@bp.get("/<int:case_id>/assign")
@coordinator_required
def assign_form(case_id: int) -> Response:
    """(Coordinator) choose another mediator for this case."""
    case = Case.get_for(current_user, case_id)
    form = AssignForm(version=case.version)
    # Checked: the person chosen before "Meer tonen", else who follows the case now.
    chosen = parse_int(request.args.get("mediator"))
    form.mediator.data = chosen if chosen and chosen > 0 else case.mediator_id
    return _assign_page(case, form)


def _assign_page(case: Case, form: AssignForm, status: int = 200) -> Response:
    """The team to choose from, TEAM_PAGE_SIZE at a time, found by name (`q`)."""
    typed = (request.args.get("q") or "").strip()[:100]
    team, page, next_page = first_pages(
        lambda limit: team_page(team_for_assigning(typed), limit, districts=True), TEAM_PAGE_SIZE
    )
    return render_page_or_block(
        "cases/assign.html",
        "form",
        status,
        case=case,
        form=form,
        team=team,
        q=typed,
        page=page,
        next_page=next_page,
    )


@bp.post("/<int:case_id>/assign")
@coordinator_required
def assign(case_id: int) -> Response:
    """(Coordinator) hand the case to another active mediator."""
    user = current_user._get_current_object()
    case = Case.get_for(current_user, case_id)
    form = AssignForm()
    # Only the chosen person need be a valid choice: one row, not the whole team.
    chosen = User.mediators().where(User.id == (parse_int(request.form.get("mediator")) or 0))
    form.mediator.choices = options((m.id, m.name) for m in chosen)
    if not form.validate_on_submit():
        return _assign_page(case, form, 422)
    mediator = User.get_by_id(form.mediator.data)
    if mediator.id == case.mediator_id:
        flash(_("%(name)s volgt dit dossier al op.", name=mediator.name))
        return redirect_to(url_for("cases.show", case_id=case.id))
    with database.atomic():
        if not case.bump_version(parse_version(form.version.data) or 0):
            return _conflict(case, _("Iemand anders wijzigde dit dossier net. Bekijk het opnieuw."))
        case.assign_to(mediator, user)
        AuditEvent.record("assign", case)
    flash(_("Dossier toegewezen aan %(name)s.", name=mediator.name))
    return redirect_to(url_for("cases.show", case_id=case.id))
