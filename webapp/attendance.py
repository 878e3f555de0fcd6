"""The provider's attendance page, opened with a link (/a/<token>) and no account: which
participant comes to which session, and "present" / "not present" with an optional remark.

A link covers either one enrolment (one participant, older links) or all our participants'
sessions at one provider in a week, whoever their mediator is: one link, not five."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from webapp.forms import max_length, parse_int, strip
from webapp.htmx import first_pages
from webapp.links import PROVIDER_LANGUAGES, link_error, link_page, page_context, set_language
from webapp.models import (
    AccessLink,
    Activity,
    AuditEvent,
    Case,
    Client,
    Enrolment,
    Provider,
    Session,
    User,
)
from webapp.models.people import SERVICES

bp = Blueprint("attendance", __name__)


class PresenceForm(FlaskForm):
    """Present or not, for one session (the CSRF token is checked for the whole blueprint)."""

    class Meta:
        csrf = False

    attendance = RadioField(
        choices=[
            SelectChoice("present", _l("Aanwezig")),
            SelectChoice("absent", _l("Niet aanwezig")),
        ],
        validators=[InputRequired(_l("Kies aanwezig of niet aanwezig."))],
    )
    remark = StringField(
        _l("Opmerking (mag leeg blijven)"), filters=[strip], validators=[max_length(300)]
    )


def enrolment_of(link: Any) -> Enrolment:
    """The link's enrolment with its activity, provider, case and client (one query)."""
    enrolment = (
        Enrolment.select(Enrolment, Activity, Provider, Case, Client)
        .join(Activity)
        .join(Provider)
        .switch(Enrolment)
        .join(Case)
        .join(Client)
        .where(Enrolment.id == link.enrolment_id, Enrolment.status == "active")
        .first()
    )
    if enrolment is None:
        abort(link_error(410, PROVIDER_LANGUAGES))
    return enrolment


# A week's link lists this many participants' sessions, then "Meer tonen": a big provider has
# a hundred of our participants in a week, each with two buttons.
SESSIONS_ON_PAGE = 20


def sessions_of(
    link: AccessLink, only: int | None = None
) -> tuple[list[Session], Provider, User | None, int | None]:
    """The sessions the link covers (a week's: its first pages, `?page=n`; with `only`, that
    session alone if the link covers it), its provider, who asks (the link's maker), and the
    next page of a week's sessions (None at the end)."""
    next_page = None
    if link.provider_id:
        provider = Provider.get_by_id(link.provider_id)
        week = Session.of_provider_period(
            link.provider_id,
            link.period_start,  # type: ignore[arg-type]  # a provider's link has its period
            link.period_end,  # type: ignore[arg-type]
            listed=only is None,
        )
        if only is not None:
            sessions = list(week.where(Session.id == only))
        else:
            sessions, _page, next_page = first_pages(
                lambda limit: list(week.limit(limit)), SESSIONS_ON_PAGE
            )
    else:
        enrolment = enrolment_of(link)
        provider = enrolment.activity.provider
        sessions = [s for s in Session.for_provider_page(enrolment) if only in (None, s.id)]
        for session in sessions:
            session.enrolment = enrolment
    asker = User.get_or_none(User.id == link.created_by_id) if link.created_by_id else None
    if asker is None and sessions:
        asker = User.get_by_id(sessions[0].enrolment.case.mediator_id)
    return sessions, provider, asker, next_page


def render_page(token: str, link: AccessLink, language: str, **extra: Any) -> str:
    sessions, provider, asker, next_page = sessions_of(link)
    return render_template(
        "attendance/show.html",
        token=token,
        provider=provider,
        sessions=sessions,
        page=parse_int(request.args.get("page")),
        next_page=next_page,
        asker=asker,
        asker_team=SERVICES.get(asker.service or "", "Antwerpen") if asker else "",
        several=bool(link.provider_id),
        **page_context(language, PROVIDER_LANGUAGES),
        **extra,
    )


@bp.get("/a/<token>")
@link_page("provider", PROVIDER_LANGUAGES)
def show(token: str, link: AccessLink) -> str:
    """The participants' sessions, with a yes/no for each one that has begun."""
    language = set_language(PROVIDER_LANGUAGES)
    return render_page(token, link, language)


@bp.post("/a/<token>/sessions/<int:session_id>")
@link_page("provider", PROVIDER_LANGUAGES)
def confirm(token: str, link: AccessLink, session_id: int) -> Any:
    """Store present / not present on the participant's own case; the provider may correct it
    until the link expires."""
    language = set_language(PROVIDER_LANGUAGES)
    sessions, _provider, _asker, _next = sessions_of(link, only=session_id)
    if not sessions:
        abort(link_error(404, PROVIDER_LANGUAGES))
    session = sessions[0]
    form = PresenceForm(request.form)
    if not session.can_record_attendance:
        form.validate()
        form.attendance.errors = [_("Deze activiteit is nog niet begonnen.")]
        return render_page(token, link, language, failed=(session.id, form)), 422
    if not form.validate():
        return render_page(token, link, language, failed=(session.id, form)), 422
    if session.record_attendance(form.attendance.data, form.remark.data or "", via="provider"):
        AuditEvent.record("attendance", session, link=link.id, object_type="session")
    link.mark_used()
    name = session.enrolment.case.client.first_name
    flash(
        _("Bewaard: %(who)s was er.", who=name)
        if form.attendance.data == "present"
        else _("Bewaard: %(who)s was er niet.", who=name)
    )
    # Back where the provider was: the same pages, at the participant just confirmed.
    back = url_for(
        "attendance.show",
        token=token,
        lang=language,
        page=parse_int(request.args.get("page")),
        _anchor=f"session-{session.id}",
    )
    return redirect(back, 303)
