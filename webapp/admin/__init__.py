"""Managing the team (coordinators only): add people, change their role, deactivate them, reset
their second factor; the team's security settings and the security log (Beveiliging)."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from webapp.admin.forms import EditUserForm, NewUserForm, TeamSecurityForm
from webapp.auth import coordinator_required
from webapp.forms import differences, parse_int
from webapp.htmx import first_pages, redirect_to, render_page_or_block
from webapp.models import (
    SECOND_FACTOR_FOR_ALL,
    SECURITY_EVENTS,
    TEAM_PAGE_SIZE,
    AuditEvent,
    SecondFactor,
    SecurityEvent,
    TeamSetting,
    User,
    database,
    team_list,
    team_page,
    users_without_second_factor,
)
from webapp.timeutil import utcnow
from webapp.twofactor import recent_login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@coordinator_required
def _coordinators_only() -> None:
    """Every screen of this area is the coordinator's."""


def _user(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    return user


# ?zonder=tweede-stap: the Users list of the people without a second factor (Beveiliging's link).
WITHOUT_APP = "tweede-stap"
# Beveiliging names this many of them; the Users list has the rest.
WITHOUT_APP_NAMED = 10


@bp.get("/users")
def index() -> Response:
    """The team, with how many open cases each person has: active people first, by name,
    TEAM_PAGE_SIZE at a time, found by name or e-mail address (`q`)."""
    typed = (request.args.get("q") or "").strip()[:100]
    without_app = request.args.get("zonder") == WITHOUT_APP
    users, _page, next_page = first_pages(
        lambda limit: team_page(team_list(typed, without_app), limit), TEAM_PAGE_SIZE
    )
    return render_page_or_block(
        "admin/index.html",
        "users",
        users=users,
        q=typed,
        without_app=WITHOUT_APP if without_app else None,
        next_page=next_page,
    )


@bp.get("/users/new")
def new() -> Response:
    """The form for a new team member."""
    return render_page_or_block("admin/new.html", "user_form", form=NewUserForm())


@bp.post("/users")
def create() -> Response:
    """Add a team member with a typed or generated first password."""
    form = NewUserForm()
    if not form.validate():
        return render_page_or_block("admin/new.html", "user_form", status=422, form=form)
    password = secrets.token_urlsafe(12) if form.generate.data else form.password.data
    with database.atomic():
        user = User(
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            service=form.service.data,
            phone=form.phone.data or "",
            languages=",".join(form.languages.data or []) or None,
            password_given_at=utcnow(),
        )
        user.set_password(password)
        user.save()
        AuditEvent.record("create", user)
    if form.generate.data:
        return _show_password_once(user, password, status=201)
    flash(_("%(name)s kan nu aanmelden.", name=user.name))
    return redirect_to(url_for("admin.index"))


def _show_password_once(user: User, password: str, status: int, reset: bool = False) -> Response:
    """The generated password, shown once: never stored in clear and never sent back again."""
    response = make_response(
        render_template("admin/created.html", user=user, password=password, reset=reset), status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/users/<int:user_id>/edit")
def edit(user_id: int) -> Response:
    """Change someone's name, role, service or phone; deactivate or reactivate them."""
    user = _user(user_id)
    form = EditUserForm(obj=user, editing=user, by=current_user._get_current_object())
    form.languages.data = user.language_list  # stored comma-separated
    return render_page_or_block(
        "admin/edit.html", "user_form", form=form, user=user, factor=SecondFactor.of(user)
    )


@bp.post("/users/<int:user_id>")
def update(user_id: int) -> Response:
    """Save the changes to a team member."""
    user = _user(user_id)
    form = EditUserForm(editing=user, by=current_user._get_current_object())
    if not form.validate():
        return render_page_or_block(
            "admin/edit.html",
            "user_form",
            status=422,
            form=form,
            user=user,
            factor=SecondFactor.of(user),
        )
    if form.role.data != user.role:
        # A new role is a grave change: the password or a code again (the form is kept).
        return _update_role(user, form)
    return _save_user(user, form)


@recent_login_required
def _update_role(user: User, form: EditUserForm) -> Response:
    return _save_user(user, form)


def _save_user(user: User, form: EditUserForm) -> Response:
    saved = (
        User.update(
            name=form.name.data,
            role=form.role.data,
            service=form.service.data,
            phone=form.phone.data or "",
            languages=",".join(form.languages.data or []) or None,
            version=User.version + 1,
        )
        .where(User.id == user.id, User.version == parse_int(form.version.data))
        .execute()
    )
    if not saved:
        # Someone else saved this person in between: what differs is shown, this input kept.
        user = _user(user.id)
        form.version.data = user.version
        changed = differences(form, user, ["name", "role", "service", "phone"])
        if changed:
            return render_page_or_block(
                "admin/edit.html",
                "user_form",
                409,
                form=form,
                user=user,
                differences=changed,
                factor=SecondFactor.of(user),
            )
    AuditEvent.record("update", user)
    flash(_("Gegevens van %(name)s bewaard.", name=form.name.data))
    return redirect_to(url_for("admin.index"))


@bp.post("/users/<int:user_id>/deactivate")
@recent_login_required
def deactivate(user_id: int) -> Response:
    """Close someone's account: they are logged out everywhere and cannot log in again."""
    user = _user(user_id)
    if user == current_user:
        flash(_("Je kan je eigen account niet afsluiten."))
        return redirect_to(url_for("admin.edit", user_id=user.id))
    with database.atomic():
        User.update(active=False).where(User.id == user.id).execute()
        user.end_sessions()
        AuditEvent.record("deactivate", user)
    flash(_("%(name)s kan niet meer aanmelden.", name=user.name))
    return redirect_to(url_for("admin.index"))


@bp.post("/users/<int:user_id>/password")
@recent_login_required
def reset_password(user_id: int) -> Response:
    """A forgotten password: make a new one to pass on in person; every session of the person
    ends, so whoever knew the old one is out."""
    user = _user(user_id)
    if user == current_user:
        flash(_("Je eigen wachtwoord wijzig je bij Mijn account."))
        return redirect_to(url_for("account.index"))
    password = secrets.token_urlsafe(12)
    with database.atomic():
        user.replace_password(password, given=True)
        user.end_sessions()
        AuditEvent.record("password-reset", user)
    return _show_password_once(user, password, status=200, reset=True)


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int) -> Response:
    """Open a closed account again (with the password it had)."""
    user = _user(user_id)
    with database.atomic():
        User.update(active=True, failed_logins=0, locked_until=None).where(
            User.id == user.id
        ).execute()
        AuditEvent.record("reactivate", user)
    flash(_("%(name)s kan weer aanmelden.", name=user.name))
    return redirect_to(url_for("admin.index"))


@bp.post("/users/<int:user_id>/second-factor/reset")
@recent_login_required
def reset_second_factor(user_id: int) -> Response:
    """A lost phone and no recovery codes: forget the person's app and end all their sessions;
    at their next login they set up a new one."""
    user = _user(user_id)
    if user == current_user:
        flash(_("Je eigen tweede stap beheer je bij Mijn account."))
        return redirect_to(url_for("account.second_factor"))
    with database.atomic():
        SecondFactor.remove_for(user)
        user.end_sessions()
        AuditEvent.record("second-factor-reset", user)
        SecurityEvent.record("second-factor-reset", user)
    flash(_("De tweede stap van %(name)s is gewist; %(name)s is overal afgemeld.", name=user.name))
    return redirect_to(url_for("admin.edit", user_id=user.id))


SECURITY_PAGE_SIZE = 50


def _int_arg(name: str) -> int | None:
    return parse_int(request.args.get(name))


def _security_page(form: TeamSecurityForm, status: int = 200) -> Response:
    kind = request.args.get("kind", "")
    kind = kind if kind in SECURITY_EVENTS else ""
    before = _int_arg("before")
    rows = list(SecurityEvent.newest(kind or None, before).limit(SECURITY_PAGE_SIZE + 1))
    events = rows[:SECURITY_PAGE_SIZE]
    return render_page_or_block(
        "admin/security.html",
        "events" if before is not None else "security",
        status=status,
        form=form,
        events=events,
        kind=kind,
        kinds=SECURITY_EVENTS,
        next_before=events[-1].id if len(rows) > SECURITY_PAGE_SIZE else None,
        without_app=list(users_without_second_factor().limit(WITHOUT_APP_NAMED)),
        without_app_count=users_without_second_factor().count(),
        without_app_filter=WITHOUT_APP,
    )


@bp.get("/security")
def security() -> Response:
    """Beveiliging: the second factor for the whole team, and the security log (newest first,
    by kind, a page at a time)."""
    form = TeamSecurityForm(for_all=TeamSetting.is_on(SECOND_FACTOR_FOR_ALL))
    return _security_page(form)


@bp.post("/security")
def security_update() -> Response:
    """Switch the second factor on (or off) for everyone in the team."""
    form = TeamSecurityForm()
    if not form.validate():
        return _security_page(form, 422)
    on = bool(form.for_all.data)
    with database.atomic():
        TeamSetting.switch(SECOND_FACTOR_FOR_ALL, on, current_user._get_current_object())
        AuditEvent.record(
            "second-factor-" + ("all" if on else "coordinators"), None, object_type="team"
        )
        SecurityEvent.record("team-second-factor", current_user._get_current_object())
    if on:
        flash(_("Vanaf nu vraagt Vrijbaan iedereen een tweede stap."))
    else:
        flash(_("Alleen coördinatoren moeten nog een tweede stap gebruiken."))
    return redirect_to(url_for("admin.security"))
