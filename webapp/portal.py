"""The client's own page, opened with a personal link (/p/<token>): the next activity in plain
language and their own language, a calendar file, and "I can't come"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from icalendar import Calendar, Event
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired

from webapp.forms import max_length, strip
from webapp.links import CLIENT_LANGUAGES, link_error, link_page, page_context, set_language
from webapp.models import (
    MEETING_POINTS,
    THINGS_TO_BRING,
    AccessLink,
    AuditEvent,
    Case,
    CaseEvent,
    Client,
    Session,
    User,
)
from webapp.timeutil import to_local, utcnow

bp = Blueprint("portal", __name__)


@bp.app_template_filter()
def spoken_datetime(value: dt.datetime) -> str:
    """A stored UTC time as people say it, in the page language: 'zaterdag 5 december om 10 uur'."""
    local = to_local(value)
    if get_locale().language == "nl":
        time = f"{local.hour} uur" if not local.minute else f"{local.hour}.{local.minute:02d} uur"
    else:
        time = format_time(value, "short")
    return _("%(day)s om %(time)s", day=format_date(value, "EEEE d MMMM"), time=time)


class CantComeForm(FlaskForm):
    """'I can't come' to one session, with an optional short message (the CSRF token is checked
    for the whole blueprint)."""

    class Meta:
        csrf = False

    session = IntegerField(validators=[InputRequired()])
    message = TextAreaField(
        _l("Wil je iets zeggen? (mag leeg blijven)"),
        filters=[strip],
        validators=[max_length(300)],
    )


@bp.get("/p/<token>")
@link_page("client", CLIENT_LANGUAGES)
def show(token: str, link: AccessLink) -> Any:
    """The client's page: the next activity, then the later ones."""
    client = Client.get_by_id(link.client_id)
    language = set_language(CLIENT_LANGUAGES, client.language)
    return render_client_page(token, client, language)


def render_client_page(
    token: str, client: Client, language: str, form: Any = None, status: int = 200
) -> Any:
    sessions = Session.upcoming_for_client(client)
    mediator = None
    if not sessions:
        case = (
            Case.select(Case, User)
            .join(User)
            .where(Case.client == client, Case.status == "open")
            .order_by(Case.opened_at.desc())
            .first()
        )
        mediator = case.mediator if case else None
    html = render_template(
        "portal/show.html",
        token=token,
        client=client,
        sessions=sessions,
        form=form,
        client_mediator=mediator,
        **page_context(language, CLIENT_LANGUAGES),
    )
    return html, status


@bp.post("/p/<token>/cant-come")
@link_page("client", CLIENT_LANGUAGES)
def cant_come(token: str, link: AccessLink) -> Any:
    """The client cannot come to a session: the mediator sees it on Vandaag and the timeline."""
    client = Client.get_by_id(link.client_id)
    language = set_language(CLIENT_LANGUAGES, client.language)
    form = CantComeForm(request.form)
    if not form.validate():
        return render_client_page(token, client, language, form=form, status=422)
    session = next(
        (s for s in Session.upcoming_for_client(client) if s.id == form.session.data), None
    )
    if session is None or session.starts_at < utcnow():
        abort(link_error(410, CLIENT_LANGUAGES))
    session.record_cant_come(form.message.data or "")
    link.mark_used()
    AuditEvent.record("cant_come", session, link=link.id, object_type="session")
    flash(
        _(
            "Dank je. %(name)s weet nu dat je niet kan komen.",
            name=session.enrolment.case.mediator.first_name,
        )
    )
    return redirect(url_for("portal.show", token=token, lang=language), 303)


@bp.post("/p/<token>/can-come")
@link_page("client", CLIENT_LANGUAGES)
def can_come(token: str, link: AccessLink) -> Any:
    """The client can come after all (until the session starts): the mediator sees it too."""
    client = Client.get_by_id(link.client_id)
    language = set_language(CLIENT_LANGUAGES, client.language)
    session_id = request.form.get("session", type=int)
    session = next(
        (s for s in Session.upcoming_for_client(client) if s.id == session_id and s.cant_come_at),
        None,
    )
    if session is None or session.has_started:
        abort(link_error(410, CLIENT_LANGUAGES))
    session.take_back_cant_come()
    link.mark_used()
    AuditEvent.record("can_come", session, link=link.id, object_type="session")
    flash(
        _(
            "Fijn! %(name)s weet nu dat je toch komt.",
            name=session.enrolment.case.mediator.first_name,
        )
    )
    return redirect(url_for("portal.show", token=token, lang=language), 303)


@bp.get("/p/<token>/agenda.ics")
@link_page("client", CLIENT_LANGUAGES)
def calendar(token: str, link: AccessLink) -> Response:
    """The coming sessions as a calendar file (.ics) for the phone's agenda."""
    client = Client.get_by_id(link.client_id)
    set_language(CLIENT_LANGUAGES, client.language)
    cal = Calendar()
    cal.add("prodid", "-//Vrijbaan//Mijn activiteit//NL")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("Mijn activiteit"))
    for session in Session.upcoming_for_client(client, limit=30):
        activity = session.enrolment.activity
        event = Event()
        event.add("uid", f"session-{session.id}@vrijbaan")
        event.add("dtstamp", utcnow().replace(tzinfo=dt.UTC))
        event.add("dtstart", to_local(session.starts_at))
        if session.ends_at:
            event.add("dtend", to_local(session.ends_at))
        event.add("summary", activity.title)
        event.add("location", activity.address or activity.provider.name)
        details = [activity.provider.name]
        meeting = [str(MEETING_POINTS.get(session.meeting_point_key or "", ""))]
        meeting.append(session.meeting_point)
        if any(meeting):
            details.append(_("Waar we afspreken: %(place)s", place=" ".join(filter(None, meeting))))
        things = [str(THINGS_TO_BRING[key]) for key in activity.bring_list]
        if activity.what_to_bring:
            things.append(activity.what_to_bring)
        if things:
            details.append(_("Neem mee: %(things)s", things=", ".join(things)))
        event.add("description", "\n".join(details))
        cal.add_component(event)
    cal.add_missing_timezones()
    response = make_response(cal.to_ical())
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="mijn-activiteit.ics"'
    return response


@bp.post("/p/<token>/stop-messages")
@link_page("client", CLIENT_LANGUAGES)
def stop_messages(token: str, link: AccessLink) -> Any:
    """The client wants no more messages: no SMS is sent to them from now on."""
    client = Client.get_by_id(link.client_id)
    language = set_language(CLIENT_LANGUAGES, client.language)
    if client.messages_stopped_at is None:
        Client.update(messages_stopped_at=utcnow()).where(Client.id == client.id).execute()
        for case in Case.select().where(Case.client == client, Case.status == "open"):
            CaseEvent.create(case=case, kind="messages_stopped", detail="door de cliënt")
        link.mark_used()
        AuditEvent.record("update", client, link=link.id, object_type="client")
    flash(_("Je krijgt geen berichten meer van ons."))
    return redirect(url_for("portal.show", token=token, lang=language), 303)
