"""The client's own page, opened with a personal link (/p/<token>): the next activity in plain
language and their own language, a calendar file, and "I can't come".

It also holds what every link page shares (the provider's /a/ and the referrer's /r/ pages):
finding the link without leaking the token, the headers, the languages, CSRF without a
Referer, and masking tokens in the request log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_time, get_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from icalendar import Calendar, Event
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired

from webapp.forms import max_length, strip
from webapp.models import (
    MEETING_POINTS,
    THINGS_TO_BRING,
    AccessLink,
    AuditEvent,
    Case,
    CaseEvent,
    Client,
    SecurityEvent,
    Session,
    Throttle,
    User,
)
from webapp.timeutil import to_local, utcnow

bp = Blueprint("portal", __name__)

# Each language named in its own language (an endonym): people look for their own word.
CLIENT_LANGUAGES = {
    "nl": "Nederlands",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "ro": "Română",
    "uk": "Українська",
}
RTL_LANGUAGES = {"ar"}
MAX_FAILED_LOOKUPS = 30
FAILED_LOOKUP_WINDOW = dt.timedelta(minutes=15)
TOKEN_IN_PATH = re.compile(r"(/[par]/)[A-Za-z0-9_\-]{6,}")
# A token on its own (secrets.token_urlsafe(32) is 43 characters), wherever it shows up.
TOKEN_ALONE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{40,}(?![A-Za-z0-9_\-])")
LOGGERS = ("", "webapp", "flask.app", "werkzeug", "gunicorn.access", "gunicorn.error", "peewee")


class TokenFilter(logging.Filter):
    """Masks the token of /p/, /a/ and /r/ links, and anything that looks like a token, in log
    lines and in the tracebacks of errors (werkzeug's and gunicorn's request logs print the
    path, and Flask logs "Exception on <path>" with the traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: mask_tokens(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        if record.exc_info and record.exc_info[0] is not None:
            # The formatted traceback, masked, replaces the live one (which holds the URL in
            # its exception messages and frames); formatters print exc_text as it is.
            record.exc_text = mask_tokens(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_tokens(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_tokens(record.stack_info)
        return True


def mask_tokens(text: str) -> str:
    return TOKEN_ALONE.sub("…", TOKEN_IN_PATH.sub(r"\1…", text))


def install_log_filter(*names: str) -> None:
    """Mask tokens in what these loggers (and the usual ones) write."""
    for name in (*LOGGERS, *names):
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenFilter) for f in logger.filters):
            logger.addFilter(TokenFilter())


install_log_filter()


def link_headers(response: Response) -> Response:
    """A link page is private and must not travel: not cached, not indexed, no Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def check_csrf() -> None:
    """CSRF token on every POST. The global check also wants a Referer on HTTPS, which these
    pages never send (Referrer-Policy: no-referrer keeps the token out of it), so the token is
    checked here instead."""
    if request.method != "POST":
        return
    from wtforms.validators import ValidationError

    try:
        validate_csrf(request.form.get("csrf_token") or request.headers.get("X-CSRFToken"))
    except ValidationError:
        abort(link_error(400))


def init_link_blueprint(blueprint: Blueprint) -> None:
    """What every link page blueprint needs: headers, its own CSRF check."""
    from webapp.extensions import csrf

    csrf.exempt(blueprint)
    blueprint.before_request(check_csrf)
    blueprint.after_request(link_headers)


init_link_blueprint(bp)


def set_language(allowed: dict[str, str], preferred: str | None = None) -> str:
    """The page language: ?lang= when allowed, else the person's own, else the browser's, else
    Dutch. Flask-Babel's locale selector reads g.page_language."""
    wanted = request.args.get("lang", "")
    if wanted in allowed:
        language = wanted
    elif preferred in allowed:
        language = preferred or "nl"
    else:
        language = request.accept_languages.best_match(list(allowed)) or "nl"
    g.page_language = language
    refresh()
    return language


def page_context(language: str, languages: dict[str, str]) -> dict[str, Any]:
    return {
        "page_lang": language,
        "page_dir": "rtl" if language in RTL_LANGUAGES else "ltr",
        "languages": languages,
    }


@bp.app_template_filter()
def spoken_datetime(value: dt.datetime) -> str:
    """A stored UTC time as people say it, in the page language: 'zaterdag 5 december om 10 uur'."""
    local = to_local(value)
    if get_locale().language == "nl":
        time = f"{local.hour} uur" if not local.minute else f"{local.hour}.{local.minute:02d} uur"
    else:
        time = format_time(value, "short")
    return _("%(day)s om %(time)s", day=format_date(value, "EEEE d MMMM"), time=time)


def address_key() -> str:
    return "link-ip:" + hashlib.sha256((request.remote_addr or "").encode()).hexdigest()[:40]


def link_error(code: int, languages: dict[str, str] = CLIENT_LANGUAGES) -> Response:
    """A plain page in the visitor's language: 404 unknown, 410 expired or revoked, 429 too many
    tries, 400 an expired form."""
    language = set_language(languages)
    html = render_template("portal/gone.html", code=code, **page_context(language, languages))
    return link_headers(make_response(html, code))


def open_link(purpose: str, token: str, languages: dict[str, str]) -> AccessLink:
    """The usable link for this token, or a 404/410/429 page. Failed look-ups are counted per
    address; opening a link writes nothing."""
    key = address_key()
    if Throttle.count_for(key, FAILED_LOOKUP_WINDOW) >= MAX_FAILED_LOOKUPS:
        SecurityEvent.record("link-throttled")
        abort(link_error(429, languages))
    link = AccessLink.find(purpose, token)
    if link is None:
        Throttle.hit(key, FAILED_LOOKUP_WINDOW)
        SecurityEvent.record("link-unknown")
        abort(link_error(404, languages))
    if not link.is_usable:
        abort(link_error(410, languages))
    return link


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
def show(token: str) -> str:
    """The client's page: the next activity, then the later ones."""
    link = open_link("client", token, CLIENT_LANGUAGES)
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
def cant_come(token: str) -> Any:
    """The client cannot come to a session: the mediator sees it on Vandaag and the timeline."""
    link = open_link("client", token, CLIENT_LANGUAGES)
    client = Client.get_by_id(link.client_id)
    language = set_language(CLIENT_LANGUAGES, client.language)
    form = CantComeForm(request.form)
    if not form.validate():
        return render_client_page(token, client, language, form=form, status=422)
    session = next(
        (s for s in Session.upcoming_for_client(client) if s.id == form.session.data), None
    )
    if session is None or session.starts_at < utcnow():
        abort(link_error(410))
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
def can_come(token: str) -> Any:
    """The client can come after all (until the session starts): the mediator sees it too."""
    link = open_link("client", token, CLIENT_LANGUAGES)
    client = Client.get_by_id(link.client_id)
    language = set_language(CLIENT_LANGUAGES, client.language)
    session_id = request.form.get("session", type=int)
    session = next(
        (s for s in Session.upcoming_for_client(client) if s.id == session_id and s.cant_come_at),
        None,
    )
    if session is None or session.has_started:
        abort(link_error(410))
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
def calendar(token: str) -> Response:
    """The coming sessions as a calendar file (.ics) for the phone's agenda."""
    link = open_link("client", token, CLIENT_LANGUAGES)
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
def stop_messages(token: str) -> Any:
    """The client wants no more messages: no SMS is sent to them from now on."""
    link = open_link("client", token, CLIENT_LANGUAGES)
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
