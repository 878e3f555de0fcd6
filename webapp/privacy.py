"""Privacy a data protection officer signs off: the "Te wissen" list of clients whose data
reaches its retention term (erase now, or keep six months longer with a reason) and the
`apply-retention` command that erases what is past its term (README, "Bewaartermijnen")."""

from __future__ import annotations

import datetime as dt
import json
import os

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import with_appcontext
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from webapp.auth import coordinator_required
from webapp.htmx import first_pages, redirect_to, render_page_or_block
from webapp.links import CLIENT_LANGUAGES, page_context, set_language
from webapp.models import (
    AuditEvent,
    Case,
    Client,
    anonymise_client,
    can_anonymise,
    clients_due,
    database,
)
from webapp.models.audit import CLIENT_FIELD_LABELS
from webapp.models.privacy import (
    DUE_AHEAD,
    HOLD_MONTHS,
    apply_retention,
    client_export,
    keep_longer,
    retention_months,
    term_of,
)
from webapp.templating import local_datetime
from webapp.timeutil import utcnow
from webapp.twofactor import recent_login_required

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
# The privacy notice for clients: public, in the client page's languages.
notice_bp = Blueprint("notice", __name__)


class KeepForm(FlaskForm):
    reason = StringField(
        _l("Reden"),
        validators=[
            DataRequired(_l("Schrijf waarom je de gegevens langer bewaart.")),
            Length(max=200, message=_l("Hoogstens 200 tekens.")),
        ],
    )


@bp.before_request
@coordinator_required
def _coordinators_only() -> None:
    """Every screen of this area is the coordinator's."""


DUE_PAGE_SIZE = 20  # a phone screen or two; "Meer tonen" for the rest


def _due_page(status: int = 200, form: KeepForm | None = None, case_id: int = 0) -> Response:
    """The clients reaching their term, a page at a time: a database that ran no retention
    for years (an import, a restore) holds tens of thousands. `?page=n` shows the first n pages,
    and the forms post back to it, so that an error shows where it was typed."""
    now = utcnow()
    due, page, next_page = first_pages(
        lambda limit: clients_due(now, DUE_AHEAD, limit=limit), DUE_PAGE_SIZE
    )
    cases = {
        c.id: c
        for c in Case.select(Case, Client)
        .join(Client)
        .where(Case.id.in_([d.case_id for d in due] or [0]))
    }
    rows = [(cases[d.case_id], term_of(d)) for d in due if d.case_id in cases]
    return render_page_or_block(
        "privacy/due.html",
        "due",
        status,
        rows=rows,
        page=page,
        next_page=next_page,
        now=now,
        form=form or KeepForm(formdata=None),
        error_case_id=case_id,
        hold_months=HOLD_MONTHS,
    )


@bp.get("/te-wissen")
def due() -> Response:
    """(Coordinator) the clients whose data reaches its term within 30 days."""
    return _due_page()


def _closed_case(case_id: int) -> Case:
    case = Case.select(Case, Client).join(Client).where(Case.id == case_id).first()
    if case is None:
        abort(404)
    return case


@bp.post("/te-wissen/<int:case_id>/wissen")
@recent_login_required
def erase(case_id: int) -> Response:
    """(Coordinator) erase this client's personal data now, before its term."""
    case = _closed_case(case_id)
    if not can_anonymise(case.client):
        abort(409, description=_("Deze cliënt heeft nog een open dossier."))
    if not case.client.is_anonymised:
        anonymise_client(case.client, current_user._get_current_object())
    flash(_("De persoonsgegevens zijn gewist."))
    return redirect_to(url_for("privacy.due"))


@bp.post("/te-wissen/<int:case_id>/bewaren")
def keep(case_id: int) -> Response:
    """(Coordinator) keep this client's data six months longer, with the reason."""
    case = _closed_case(case_id)
    form = KeepForm()
    if not form.validate_on_submit():
        return _due_page(422, form, case.id)
    with database.atomic():
        keep_longer(case, form.reason.data.strip(), current_user._get_current_object())
    flash(_("Bewaard tot over %(months)s maanden.", months=HOLD_MONTHS))
    return redirect_to(url_for("privacy.due"))


@click.command("apply-retention")
@with_appcontext
def apply_retention_command() -> None:
    """Erase or delete everything past its retention term; prints counts, never names."""
    with database.connection_context():
        done = apply_retention()
    for kind, count in done.items():
        click.echo(f"{kind}: {count}")


def export_value(value: object) -> str:
    """A value of the export as a person reads it: Brussels time, a date, yes or no."""
    if isinstance(value, dt.datetime):
        return local_datetime(value, "d MMM yyyy HH:mm")
    if isinstance(value, dt.date):
        return format_date(value, "d MMM yyyy")
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    return str(value)


@notice_bp.get("/privacyverklaring")
def notice() -> str:
    """The privacy notice for clients, in plain language and their own language: what is kept,
    why, how long, who sees it, how to see it or have it erased; the city's parts from config."""
    language = set_language(CLIENT_LANGUAGES)
    return render_template(
        "privacy/notice.html",
        months=retention_months(),
        controller=current_app.config["PRIVACY_CONTROLLER"],
        dpo=current_app.config["PRIVACY_DPO"],
        **page_context(language, CLIENT_LANGUAGES),
    )


@bp.get("/register")
def record() -> str:
    """(Coordinator) the record of processing (GDPR art. 30), for the data protection officer."""
    return render_template(
        "privacy/record.html",
        months=retention_months(),
        controller=current_app.config["PRIVACY_CONTROLLER"],
        dpo=current_app.config["PRIVACY_DPO"],
    )


# Ended by someone else because the account may be in the wrong hands: the phone is wiped.
WIPING_ACTIONS = ("password-reset", "second-factor-reset", "deactivate")


def wipe_after_reset(response: Response) -> Response:
    """A login ended by a password reset, a second-factor reset or a deactivation: the first
    answer to that phone (the redirect to the login page, or htmx's 401) clears what it keeps
    (offline queue, visit drafts, the worker's caches), as logging out does. A login that only
    went idle keeps them: unsent visits are sent after the next login."""
    if current_user.is_authenticated:
        login = getattr(current_user, "login_session", None)
        started = login.created_at.isoformat() if login is not None else None
        if started and session.get(LOGIN_STARTED) != started:
            session[LOGIN_STARTED] = started
        return response
    pk = str(session.get("_user_id") or "").partition(":")[0]
    started = session.get(LOGIN_STARTED)
    if not pk.isdigit() or not started:
        return response
    database.connect(reuse_if_open=True)  # closed by the app's teardown
    ended = (
        AuditEvent.select()
        .where(
            AuditEvent.action.in_(WIPING_ACTIONS),
            AuditEvent.object_type == "user",
            AuditEvent.object_id == int(pk),
            AuditEvent.at >= dt.datetime.fromisoformat(started),
        )
        .exists()
    )
    if ended:
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
        session.pop(LOGIN_STARTED, None)  # once: the next login starts afresh
    return response


LOGIN_STARTED = "login_started"


def init_app(app: Flask) -> None:
    app.after_request(wipe_after_reset)
    # The city's own parts of the privacy notice and the record of processing (README).
    app.config.setdefault("PRIVACY_CONTROLLER", os.environ.get("VRIJBAAN_CONTROLLER", ""))
    app.config.setdefault("PRIVACY_DPO", os.environ.get("VRIJBAAN_DPO_CONTACT", ""))
    app.cli.add_command(apply_retention_command)
    app.add_template_filter(export_value)


EXPORT_TITLES = {
    "client": _l("De persoon"),
    "cases": _l("Dossiers"),
    "visits": _l("Contacten"),
    "steps": _l("Stappen"),
    "timeline": _l("Tijdlijn"),
    "thresholds": _l("Drempels"),
    "enrolments": _l("Inschrijvingen"),
    "sessions": _l("Keren dat de persoon naar een activiteit ging"),
    "tasks": _l("Te doen"),
    "kept_longer": _l("Langer bewaard"),
    "messages": _l("Berichten (sms en e-mail), zonder hun tekst"),
    "referrals": _l("Aanmeldingen door een doorverwijzer"),
    "links": _l("Persoonlijke links (zonder de link zelf)"),
    "audit": _l("Wie het dossier bekeek of wijzigde"),
}


# What each exported field means, in plain Dutch (the JSON keeps the field names).
EXPORT_FIELDS = {
    "id": _l("nummer"),
    **CLIENT_FIELD_LABELS,
    "household": _l("gezin"),
    "created_at": _l("gemaakt op"),
    "updated_at": _l("laatst gewijzigd op"),
    "client": _l("cliëntnummer"),
    "mediator": _l("bemiddelaar"),
    "status": _l("status"),
    "source": _l("hoe het begon"),
    "question": _l("vraag"),
    "interests": _l("interesses"),
    "opened_at": _l("geopend op"),
    "closed_at": _l("afgerond op"),
    "outcome": _l("uitkomst"),
    "outcome_reason": _l("reden"),
    "outcome_note": _l("notitie bij het afronden"),
    "current_position": _l("huidige stap"),
    "case": _l("dossiernummer"),
    "contact_type": _l("soort contact"),
    "occurred_at": _l("wanneer"),
    "duration_minutes": _l("duur in minuten"),
    "place": _l("plaats"),
    "contact_made": _l("contact gehad"),
    "planned": _l("gepland"),
    "notes": _l("notities"),
    "next_action": _l("volgende stap"),
    "next_action_due": _l("tegen wanneer"),
    "next_action_done_at": _l("volgende stap gedaan op"),
    "recorded_at": _l("genoteerd op"),
    "removed_at": _l("verwijderd op"),
    "removed_reason": _l("reden van verwijderen"),
    "step": _l("stap"),
    "changed_at": _l("gewijzigd op"),
    "changed_by": _l("gewijzigd door"),
    "note": _l("notitie"),
    "at": _l("wanneer"),
    "actor": _l("door"),
    "kind": _l("soort"),
    "visit": _l("contactnummer"),
    "detail": _l("wat"),
    "category": _l("soort drempel"),
    "resolution": _l("oplossing"),
    "signal": _l("gesignaleerd aan het netwerk"),
    "note_shareable": _l("notitie mag gedeeld worden"),
    "created_by": _l("gemaakt door"),
    "resolved_at": _l("opgelost op"),
    "activity": _l("activiteit"),
    "cost_arrangement": _l("betaling"),
    "stop_reason": _l("reden van stoppen"),
    "stop_note": _l("notitie bij het stoppen"),
    "stopped_at": _l("gestopt op"),
    "enrolment": _l("inschrijvingsnummer"),
    "starts_at": _l("begint"),
    "ends_at": _l("eindigt"),
    "meeting_point": _l("afspraakplaats"),
    "companion": _l("gaat mee"),
    "attendance": _l("aanwezigheid"),
    "attendance_remark": _l("opmerking van de aanbieder"),
    "confirmed_at": _l("bevestigd op"),
    "confirmed_via": _l("bevestigd via"),
    "cant_come_at": _l("afgemeld op"),
    "cant_come_message": _l("bericht bij het afmelden"),
    "until": _l("bewaard tot"),
    "reason": _l("reden"),
    "user": _l("door"),
    "organisation": _l("doorverwijzer"),
    "reference": _l("referentie"),
    "referrer_name": _l("naam doorverwijzer"),
    "referrer_role": _l("functie doorverwijzer"),
    "referrer_phone": _l("telefoon doorverwijzer"),
    "referrer_email": _l("e-mail doorverwijzer"),
    "for_whom": _l("voor wie"),
    "age": _l("leeftijd"),
    "whatsapp": _l("WhatsApp mag"),
    "call_moment": _l("best bellen"),
    "domains": _l("domeinen"),
    "known_thresholds": _l("gekende drempels"),
    "first_contact": _l("eerste contact"),
    "consent_text": _l("toestemming"),
    "decline_reason": _l("reden van niet aanvaarden"),
    "submitted_at": _l("verstuurd op"),
    "handled_at": _l("behandeld op"),
    "handled_by": _l("behandeld door"),
    "purpose": _l("soort link"),
    "session": _l("keer"),
    "expires_at": _l("geldig tot"),
    "revoked_at": _l("ingetrokken op"),
    "last_used_at": _l("laatst gebruikt op"),
    "text": _l("wat"),
    "due": _l("tegen wanneer"),
    "done_at": _l("gedaan op"),
    "done_by": _l("gedaan door"),
    "who": _l("wie"),
    "what": _l("wat"),
    "fields": _l("welke gegevens"),
    "channel": _l("via"),
    "target": _l("waarover"),
    "due_on": _l("voor de dag"),
    "attempts": _l("pogingen"),
    "next_try_at": _l("volgende poging"),
    "claimed_at": _l("in behandeling sinds"),
    "sent_at": _l("verstuurd op"),
}


@bp.get("/clients/<int:client_id>/inzage")
@recent_login_required
def export(client_id: int) -> Response | str:
    """(Coordinator) everything kept about one client, as a printable page or (?as=json) JSON:
    the answer to an access request (GDPR art. 15). Audited."""
    client = Client.get_or_none(Client.id == client_id)
    if client is None:
        abort(404)
    data = client_export(client)
    AuditEvent.record("export", client)
    if request.args.get("as") == "json":
        text = json.dumps(data, default=_plain, ensure_ascii=False, indent=1)
        response = Response(text, mimetype="application/json")
        response.headers["Content-Disposition"] = f'attachment; filename="inzage-{client.id}.json"'
        return response
    return render_template(
        "privacy/export.html",
        client=client,
        data=data,
        titles=EXPORT_TITLES,
        labels=EXPORT_FIELDS,
        now=utcnow(),
    )


def _plain(value: object) -> str:
    """Dates and times as ISO text in the JSON; translated labels as text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
