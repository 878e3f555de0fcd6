"""Outgoing messages: planning and sending them (`flask --app wsgi send-messages`), the two
transports (SMTP, one HTTP interface for SMS gateways), the client's consent on the case, and the
coordinator's list of today's messages.

How a message goes out (README, "Berichten"): each run first *plans* what is due, inserting one
row per (kind, target, day), ignoring rows that exist already, so any number of servers plan the
same rows once; then it *claims* each due row with one UPDATE … WHERE status='queued' AND claimed
is empty, and only the server whose UPDATE changed the row sends it. Consent, the quiet hours and
the transport are checked when the message is sent, not when it is planned.

The link in a message: only a link's hash is stored, so a message cannot repeat the link the
client already has. When the client (or the provider) has a usable link, sending makes a new
token for it with the same expiry, and the old token stops working once the message is out (one
link per person). A revoked or expired link is never renewed by a message: the SMS then goes
without a link, and the provider's e-mail is not sent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import Any

import click
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.cli import with_appcontext
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.auth import coordinator_required
from webapp.db import database
from webapp.htmx import first_pages
from webapp.links import public_url
from webapp.models import (
    CONSENT_WORDING,
    NOT_SENT_REASONS,
    AccessLink,
    Activity,
    AuditEvent,
    Case,
    CaseEvent,
    Client,
    Enrolment,
    Message,
    Provider,
    Session,
    Task,
    User,
    Visit,
)
from webapp.models.links import token_hash
from webapp.portal import spoken_datetime
from webapp.timeutil import local_day_bounds, to_local, utcnow

bp = Blueprint("messages", __name__, url_prefix="/messages")

CLIENT_MESSAGE_LANGUAGES = ("nl", "en", "fr", "ar", "tr", "pl", "ro", "uk")
PROVIDER_DAYS_AHEAD = 7  # the provider's e-mail lists the sessions of the coming week
REMINDER_DAYS_BACK = 7  # a session unconfirmed for longer than this gets no reminder any more
SUMMARY_HOUR = 7
CONFIG_FROM_ENV = {
    "MESSAGES_WINDOW": "09:00-20:00",
    "MESSAGES_RETRY_MINUTES": "5,15,60",
    "SMTP_HOST": "",
    "SMTP_PORT": "587",
    "SMTP_TLS": "starttls",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "MAIL_FROM": "",
    "SMS_GATEWAY_URL": "",
    "SMS_GATEWAY_KEY": "",
    "SMS_SENDER": "Vrijbaan",
}


class TransportError(Exception):
    """The transport did not accept the message (it may be tried again)."""


def init_app(app: Flask) -> None:
    for key, default in CONFIG_FROM_ENV.items():
        app.config.setdefault(key, os.environ.get(key, default))
    app.cli.add_command(send_messages_command)
    app.jinja_env.globals["MESSAGES_CONSENT_WORDING"] = CONSENT_WORDING


# -- transports ---------------------------------------------------------------------------------


def email_configured() -> bool:
    return bool(current_app.config["SMTP_HOST"] and current_app.config["MAIL_FROM"])


def sms_configured() -> bool:
    return bool(current_app.config["SMS_GATEWAY_URL"])


def send_email(to: str, subject: str, body: str) -> None:
    """One plain-text e-mail over SMTP (STARTTLS, implicit TLS or none, as configured)."""
    config = current_app.config
    mail = EmailMessage()
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(body)
    host, port, tls = config["SMTP_HOST"], int(config["SMTP_PORT"]), config["SMTP_TLS"]
    try:
        if tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=30, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=30)
        with smtp:
            if tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USER"]:
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as error:
        raise TransportError(type(error).__name__) from error


def send_sms(to: str, text: str) -> None:
    """One SMS through the gateway: POST {"to", "from", "text"} as JSON with the key as a bearer
    token; any 2xx answer means accepted (README, "SMS-gateway")."""
    config = current_app.config
    payload = json.dumps({"to": to, "from": config["SMS_SENDER"], "text": text}).encode()
    http_request = urllib.request.Request(  # noqa: S310 (the URL comes from the operator's config)
        config["SMS_GATEWAY_URL"],
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {config['SMS_GATEWAY_KEY']}",
        },
    )
    try:
        with urllib.request.urlopen(http_request, timeout=30) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise TransportError(f"HTTP {response.status}")
    except urllib.error.HTTPError as error:
        raise TransportError(f"HTTP {error.code}") from error
    except OSError as error:
        raise TransportError(type(error).__name__) from error


def international_phone(phone: str) -> str:
    """A Belgian number as +32…; a number with a country code stays as it is."""
    digits = "".join(c for c in phone if c.isdigit() or c == "+")
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        return "+32" + digits[1:]
    return digits


# -- planning -----------------------------------------------------------------------------------


def plan_messages(now: dt.datetime) -> int:
    """Insert the rows for what is due today and tomorrow; a row that exists stays as it is.
    Returns how many rows are new."""
    today = to_local(now).date()
    tomorrow = today + dt.timedelta(days=1)
    start, end = local_day_bounds(tomorrow)
    rows: list[dict[str, Any]] = []
    upcoming = (
        Session.select(Session.id, Session.starts_at, Enrolment.id, Case.id, Case.client)
        .join(Enrolment)
        .join(Case)
        .where(
            Session.starts_at >= start,
            Session.starts_at < end,
            Enrolment.status == "active",
            Case.status == "open",
        )
    )
    for session in upcoming:
        case = session.enrolment.case
        common = {"case": case.id, "client": case.client_id, "due_on": tomorrow}
        rows.append(
            {
                **common,
                "kind": "client_session",
                "channel": "sms",
                "target": f"session:{session.id}",
                "session": session.id,
            }
        )
        rows.append(
            {
                **common,
                "kind": "provider_sessions",
                "channel": "email",
                "target": f"enrolment:{session.enrolment.id}",
                "enrolment": session.enrolment.id,
            }
        )
    visits = (
        Visit.select(Visit.id, Case.id, Case.client)
        .join(Case)
        .where(
            Visit.occurred_at >= start,
            Visit.occurred_at < end,
            Visit.planned == True,  # noqa: E712
            Visit.remind_client == True,  # noqa: E712
            Visit.removed_at.is_null(),
            Case.status == "open",
        )
    )
    for visit in visits:
        rows.append(
            {
                "kind": "client_visit",
                "channel": "sms",
                "target": f"visit:{visit.id}",
                "due_on": tomorrow,
                "case": visit.case.id,
                "client": visit.case.client_id,
                "visit": visit.id,
            }
        )
    since, _end = local_day_bounds(today - dt.timedelta(days=REMINDER_DAYS_BACK))
    today_start, _end = local_day_bounds(today)
    unconfirmed = (
        Session.select(Session.id, Session.starts_at, Enrolment.id, Case.id)
        .join(Enrolment)
        .join(Case)
        .where(
            Session.starts_at >= since,
            Session.starts_at < today_start,
            Session.confirmed_at.is_null(),
            Session.attendance == "",
            Enrolment.status == "active",
        )
    )
    for session in unconfirmed:
        rows.append(
            {
                "kind": "provider_reminder",
                "channel": "email",
                "target": f"session:{session.id}",
                "due_on": to_local(session.starts_at).date(),
                "case": session.enrolment.case.id,
                "session": session.id,
                "enrolment": session.enrolment.id,
            }
        )
    if to_local(now).hour >= SUMMARY_HOUR:
        readers = User.select(User.id).where(
            User.active == True,  # noqa: E712
            User.daily_summary == True,  # noqa: E712
        )
        for user in readers:
            rows.append(
                {
                    "kind": "mediator_summary",
                    "channel": "email",
                    "target": f"user:{user.id}",
                    "due_on": today,
                    "user": user.id,
                }
            )
    if not rows:
        return 0
    # insert_many takes its columns from the first row: every row gets every column.
    columns = ("case", "client", "user", "session", "visit", "enrolment")
    for row in rows:
        for column in columns:
            row.setdefault(column, None)
        row.update(next_try_at=now, created_at=now, updated_at=now)
    before = Message.select().count()
    with database.atomic():
        for chunk in range(0, len(rows), 100):
            Message.insert_many(rows[chunk : chunk + 100]).on_conflict_ignore().execute()
    return Message.select().count() - before


# -- sending ------------------------------------------------------------------------------------


def in_quiet_hours(now: dt.datetime) -> bool:
    """True at night: outside the configured window (Brussels time, "09:00-20:00")."""
    first, _sep, last = current_app.config["MESSAGES_WINDOW"].partition("-")
    start = dt.time.fromisoformat(first.strip())
    end = dt.time.fromisoformat(last.strip())
    return not start <= to_local(now).time().replace(tzinfo=None) < end


def retry_delays() -> list[dt.timedelta]:
    minutes = current_app.config["MESSAGES_RETRY_MINUTES"]
    return [dt.timedelta(minutes=int(m)) for m in str(minutes).split(",") if m.strip()]


def send_due(now: dt.datetime) -> dict[str, int]:
    """Send every due message this process can claim; returns counts per outcome."""
    counts = {"sent": 0, "failed": 0, "not_sent": 0, "retry": 0}
    night = in_quiet_hours(now)
    due = Message.select(Message.id, Message.kind).where(
        Message.status == "queued", Message.next_try_at <= now
    )
    # Read the list first: an open SELECT cursor would keep SQLite from taking the write lock.
    for row in list(due.order_by(Message.id)):
        # The team member's own summary comes at 7:00; what reaches clients and providers waits.
        if night and row.kind != "mediator_summary":
            continue
        if not Message.claim(row.id, now):
            continue
        message = Message.get_by_id(row.id)
        try:
            reason = deliver(message, now)
        except TransportError as error:
            delays = retry_delays()
            if message.attempts > len(delays):
                finish(message, "failed", str(error)[:20], now)
                counts["failed"] += 1
            else:
                Message.update(
                    claimed_at=None,
                    reason=str(error)[:20],
                    next_try_at=now + delays[message.attempts - 1],
                    updated_at=now,
                ).where(Message.id == message.id).execute()
                counts["retry"] += 1
            continue
        if reason:
            finish(message, "not_sent", reason, now)
            counts["not_sent"] += 1
        else:
            finish(message, "sent", "", now)
            counts["sent"] += 1
    return counts


def finish(message: Message, status: str, reason: str, now: dt.datetime) -> None:
    """The message's last state, and its line on the case's timeline (type and status only)."""
    with database.atomic():
        Message.update(
            status=status,
            reason=reason,
            updated_at=now,
            sent_at=now if status == "sent" else None,
        ).where(Message.id == message.id).execute()
        if message.case_id:
            detail = message.kind_label
            if status == "not_sent":
                detail += " — " + str(NOT_SENT_REASONS.get(reason, reason))
            CaseEvent.create(case=message.case_id, at=now, kind=f"message_{status}", detail=detail)


def deliver(message: Message, now: dt.datetime) -> str:
    """Send one claimed message. Returns '' when sent, else why it is not sent (a
    NOT_SENT_REASONS key); raises TransportError when the transport refused it."""
    if message.kind in ("client_session", "client_visit"):
        return deliver_to_client(message, now)
    if message.kind in ("provider_sessions", "provider_reminder"):
        return deliver_to_provider(message, now)
    return deliver_summary(message, now)


def spoken_when(value: dt.datetime) -> str:
    return spoken_datetime(value)


def deliver_to_client(message: Message, now: dt.datetime) -> str:
    client = Client.get_by_id(message.client_id)
    if message.kind == "client_session":
        session = (
            Session.select(Session, Enrolment, Activity, Provider)
            .join(Enrolment)
            .join(Activity)
            .join(Provider)
            .where(Session.id == message.session_id, Enrolment.status == "active")
            .first()
        )
        if session is None or session.starts_at <= now:
            return "too_late"
        when = session.starts_at
        place = session.enrolment.activity.address or session.enrolment.activity.provider.name
    else:
        visit = Visit.get_or_none(Visit.id == message.visit_id)
        if (
            visit is None
            or visit.removed_at is not None
            or not visit.planned
            or not visit.remind_client
            or to_local(visit.occurred_at).date() != message.due_on
            or visit.occurred_at <= now
        ):
            return "too_late"
        when, place = visit.occurred_at, visit.place
    if client.messages_stopped_at is not None:
        return "stopped"
    if client.messages_consent_at is None:
        return "no_consent"
    if not client.phone:
        return "no_address"
    if not sms_configured():
        return "no_transport"
    renewal = renew_link(AccessLink.current("client").where(AccessLink.client == client.id))
    link = renewal[1] if renewal else ""
    url = public_url("portal.show", token=link) if link else ""
    language = client.language if client.language in CLIENT_MESSAGE_LANGUAGES else "nl"
    with force_locale(language):
        text = client_text(client.first_name, spoken_when(when), place, url)
    deliver_with_link(renewal, lambda: send_sms(international_phone(client.phone), text))
    return ""


def client_text(first_name: str, when: str, place: str, url: str) -> str:
    """The SMS: first name, day, time, place and link, nothing more."""
    if place:
        text = _(
            "Hallo %(name)s, tot %(when)s. Waar: %(place)s.",
            name=first_name,
            when=when,
            place=place,
        )
    else:
        text = _("Hallo %(name)s, tot %(when)s.", name=first_name, when=when)
    if url:
        text += " " + _("Meer op je pagina: %(link)s", link=url)
    return text


def renew_link(current: Any) -> tuple[AccessLink, str] | None:
    """A new token for the newest usable link of the query, same target and expiry, not yet
    replacing the old one (see deliver_with_link); None when there is no usable link."""
    old = current.first()
    if old is None:
        return None
    token = secrets.token_urlsafe(32)
    new = AccessLink.create(
        purpose=old.purpose,
        token_hash=token_hash(token),
        client=old.client_id,
        enrolment=old.enrolment_id,
        session=old.session_id,
        organisation=old.organisation_id,
        created_by=old.created_by_id,
        expires_at=old.expires_at,
    )
    return new, token


def deliver_with_link(renewal: tuple[AccessLink, str] | None, send: Any) -> None:
    """Send; once sent, the renewed link replaces the older ones (one link per person); when
    sending fails, the renewed link is dropped and the old one keeps working."""
    try:
        send()
    except TransportError:
        if renewal:
            AccessLink.delete().where(AccessLink.id == renewal[0].id).execute()
        raise
    if renewal:
        new = renewal[0]
        same = AccessLink.update(revoked_at=utcnow()).where(
            AccessLink.purpose == new.purpose,
            AccessLink.revoked_at.is_null(),
            AccessLink.id != new.id,
        )
        for field in ("client", "enrolment"):
            value = getattr(new, f"{field}_id")
            if value:
                same = same.where(getattr(AccessLink, field) == value)
        same.execute()
        AuditEvent.record("create", new, link=new.id, object_type="accesslink")


def deliver_to_provider(message: Message, now: dt.datetime) -> str:
    enrolment = (
        Enrolment.select(Enrolment, Activity, Provider, Case, Client, User)
        .join(Activity)
        .join(Provider)
        .switch(Enrolment)
        .join(Case)
        .join(Client, on=(Case.client == Client.id))
        .switch(Case)
        .join(User, on=(Case.mediator == User.id))
        .where(Enrolment.id == message.enrolment_id)
        .first()
    )
    if enrolment is None or enrolment.status != "active":
        return "too_late"
    provider = enrolment.activity.provider
    case = enrolment.case
    if message.kind == "provider_reminder":
        session = Session.get_or_none(Session.id == message.session_id)
        if session is None or session.confirmed_at is not None or session.attendance:
            return "too_late"
        sessions = [session]
    else:
        sessions = list(
            Session.select()
            .where(
                Session.enrolment == enrolment,
                Session.starts_at > now,
                Session.starts_at < now + dt.timedelta(days=PROVIDER_DAYS_AHEAD),
            )
            .order_by(Session.starts_at)
        )
        if not sessions:
            return "too_late"
    if not provider.email:
        return "no_address"
    renewal = renew_link(AccessLink.current("provider").where(AccessLink.enrolment == enrolment))
    if renewal is None:
        return "no_link"
    if not email_configured():
        AccessLink.delete().where(AccessLink.id == renewal[0].id).execute()
        return "no_transport"
    url = public_url("attendance.show", token=renewal[1])
    who = case.client.short_name
    title = enrolment.activity.title
    mediator = case.mediator
    with force_locale("nl"):
        days = "\n".join(f"- {spoken_when(s.starts_at)}" for s in sessions)
        greeting = _("Dag %(provider)s,", provider=provider.contact_name or provider.name)
        contact = _(
            "Vragen? Bel of mail %(mediator)s: %(phone)s, %(email)s.",
            mediator=mediator.name,
            phone=mediator.phone or "-",
            email=mediator.email,
        )
        if message.kind == "provider_reminder":
            subject = _("Herinnering: aanwezigheid %(who)s — %(title)s", who=who, title=title)
            lines = [
                greeting,
                _(
                    "We weten nog niet of %(who)s er was bij %(title)s op %(when)s. Wilt u het"
                    " laten weten via deze link? Er is geen account nodig.",
                    who=who,
                    title=title,
                    when=spoken_when(sessions[0].starts_at),
                ),
                url,
                contact,
            ]
        else:
            subject = _("Aanwezigheid %(who)s — %(title)s", who=who, title=title)
            lines = [
                greeting,
                _("%(who)s komt naar %(title)s:", who=who, title=title) + "\n" + days,
                _(
                    "Wilt u na elke keer via deze link laten weten of %(who)s er was?"
                    " Er is geen account nodig.",
                    who=who,
                ),
                url,
                contact,
            ]
    deliver_with_link(renewal, lambda: send_email(provider.email, subject, "\n\n".join(lines)))
    return ""


def deliver_summary(message: Message, now: dt.datetime) -> str:
    """The team member's day at 7:00: appointments and what is overdue, first names and
    initials only, no notes."""
    user = User.get_by_id(message.user_id)
    if not user.active or not user.daily_summary:
        return "too_late"
    if not user.email:
        return "no_address"
    if not email_configured():
        return "no_transport"
    day = message.due_on
    start, end = local_day_bounds(day)
    language = user.ui_language or "nl"
    with force_locale(language):
        lines = [_("Goedemorgen %(name)s,", name=user.first_name), _("Vandaag:")]
        visits = (
            Visit.select(Visit, Case, Client)
            .join(Case)
            .join(Client, on=(Case.client == Client.id))
            .where(
                Case.mediator == user,
                Case.status == "open",
                Visit.planned == True,  # noqa: E712
                Visit.removed_at.is_null(),
                Visit.occurred_at >= start,
                Visit.occurred_at < end,
            )
            .order_by(Visit.occurred_at)
        )
        sessions = (
            Session.select(Session, Enrolment, Case, Client)
            .join(Enrolment)
            .join(Case)
            .join(Client, on=(Case.client == Client.id))
            .where(
                (Case.mediator == user) | (Session.companion == user),
                Case.status == "open",
                Enrolment.status == "active",
                Session.starts_at >= start,
                Session.starts_at < end,
            )
            .order_by(Session.starts_at)
        )
        items = [(v.occurred_at, v.case.client.short_name, _("afspraak")) for v in visits]
        items += [
            (s.starts_at, s.enrolment.case.client.short_name, _("activiteit")) for s in sessions
        ]
        for when, who, what in sorted(items):
            lines.append(f"- {to_local(when):%H:%M} {who} ({what})")
        if not items:
            lines.append("- " + _("geen afspraken"))
        # Late to-dos by first name and initial and their date only: never their text.
        overdue = Task.open_on_open_cases(user).where(Task.due < day).limit(30)
        late = [
            f"- {t.case.client.short_name}: "
            + _("te doen sinds %(day)s", day=format_date(t.due, "d MMMM"))
            for t in overdue
        ]
        if late:
            lines += ["", _("Te laat:"), *late]
        subject = _("Je dag: %(day)s", day=format_date(day, "EEEE d MMMM"))
    send_email(user.email, subject, "\n".join(lines))
    return ""


@click.command("send-messages")
@click.option("--now", "now_text", default="", help="Pretend it is this UTC time (ISO); tests.")
@with_appcontext
def send_messages_command(now_text: str) -> None:
    """Plan what is due and send it (cron or a systemd timer: every 5 minutes, any server)."""
    now = dt.datetime.fromisoformat(now_text) if now_text else utcnow()
    # The team's language for the case timeline; each message sets its reader's language.
    with database.connection_context(), force_locale("nl"):
        planned = plan_messages(now)
        counts = send_due(now)
    click.echo(
        f"planned {planned}, sent {counts['sent']}, failed {counts['failed']}, "
        f"not sent {counts['not_sent']}, to retry {counts['retry']}"
    )


# -- pages --------------------------------------------------------------------------------------


MESSAGES_PAGE_SIZE = 20  # a phone screen or two, as the other lists; "Meer tonen" for the rest


@bp.get("/")
@coordinator_required
def index() -> str:
    """Today's sent and failed messages, for a coordinator."""
    start, end = local_day_bounds(to_local(utcnow()).date())
    # A busy day of a big team sends thousands: a page at a time, a plain link to the next.
    messages, _page, next_page = first_pages(
        lambda limit: list(Message.of_day(start, end).limit(limit)), MESSAGES_PAGE_SIZE
    )
    return render_template(
        "messages/index.html",
        messages=messages,
        next_page=next_page,
        **Message.counts_of_day(start, end),
    )


@bp.post("/cases/<int:case_id>/consent")
@login_required
def consent(case_id: int) -> Any:
    """Record (or withdraw) the client's consent to reminders, with its date and wording."""
    case = Case.get_for(current_user, case_id)
    client = case.client
    given = request.form.get("consent") == "yes"
    now = utcnow()
    with database.atomic():
        Client.update(
            messages_consent_at=now if given else None,
            messages_consent_wording=CONSENT_WORDING if given else None,
            messages_stopped_at=None if given else client.messages_stopped_at,
        ).where(Client.id == client.id).execute()
        CaseEvent.create(
            case=case,
            actor=current_user,
            kind="messages_consent" if given else "messages_stopped",
            detail="" if given else "door de bemiddelaar",
        )
        AuditEvent.record("update", client, object_type="client")
    flash(_("Toestemming bewaard.") if given else _("De cliënt krijgt geen berichten meer."))
    return redirect(url_for("cases.show", case_id=case.id), 303)


@bp.post("/summary")
@login_required
def summary() -> Any:
    """Switch my own summary e-mail at 7:00 on or off."""
    wanted = request.form.get("daily_summary") == "yes"
    User.update(daily_summary=wanted).where(User.id == current_user.id).execute()
    flash(_("Je krijgt elke ochtend een dagoverzicht.") if wanted else _("Geen dagoverzicht meer."))
    return redirect(url_for("account.index"), 303)


__all__ = ["bp", "init_app", "plan_messages", "send_due"]
