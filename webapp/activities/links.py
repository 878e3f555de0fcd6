"""The links a mediator shares from a case: the client's own page and the provider's
attendance page. The token is shown once, right after it is made: only its hash is stored."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import segno
from flask import Response, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from webapp.activities import bp
from webapp.activities.enrolment import case_offer_fragment, open_case
from webapp.htmx import wants_fragment, with_trigger
from webapp.links import CLIENT_LANGUAGES, public_url
from webapp.models import (
    AccessLink,
    AuditEvent,
    Case,
    CaseEvent,
    Enrolment,
    Session,
    international_phone,
)
from webapp.models.offer import session_label
from webapp.timeutil import local_today, to_utc, utcnow

CLIENT_LINK_DAYS = 90
PROVIDER_LINK_DAYS_AFTER_LAST_SESSION = 3
PROVIDER_WEEK_DAYS = 7


def qr_svg(url: str, label: str) -> Markup:
    """The URL as a QR code, an inline SVG drawn here (no image request, no third party)."""
    svg = segno.make(url, error="m").svg_inline(
        scale=4,
        dark="#111",
        light="#fff",
        title=label,
        svgclass="qr",
        border=2,
        omitsize=True,  # a viewBox, so CSS scales it: centred, no empty band below
    )
    return Markup(svg)  # noqa: S704 (segno's own SVG of our own URL, no user input)


def share_context(
    url: str, message: str, subject: str = "", email: str = "", phone: str = ""
) -> dict[str, Any]:
    """The ways to share a link, addressed to the person's phone and e-mail when known."""
    body = f"{message} {url}"
    number = international_phone(phone)
    # wa.me wants the country code without "+"; a number of unknown form would open a chat with
    # a stranger, so then WhatsApp asks whom to send it to.
    whatsapp = number[1:] if number.startswith("+") else ""
    return {
        "url": url,
        "phone": phone if number else "",
        "qr": qr_svg(url, _("QR-code van de link")),
        "sms": f"sms:{number}?body=" + quote(body),
        "whatsapp": f"https://wa.me/{whatsapp}?text=" + quote(body),
        "mailto": f"mailto:{quote(email)}?subject={quote(subject)}&body={quote(body)}"
        if subject
        else "",
    }


def share_response(case: Case, share: dict[str, Any]) -> Response:
    """The share box: in place, inside its own link's card for htmx (the client-link card or the
    enrolment's card), else as a page of its own."""
    if wants_fragment():
        share["in_place"] = True
        if share["purpose"] == "client":
            response = case_offer_fragment(case, piece="client_link", share=share)
        else:
            response = case_offer_fragment(
                case, piece="enrolment", enrolment_id=share["enrolment"].id, share=share
            )
        return with_trigger(response, "announce", _("De link is klaar om te delen."))
    return Response(render_template("activities/share.html", case=case, share=share))


@bp.post("/cases/<int:case_id>/client-link")
@login_required
def create_client_link(case_id: int) -> Response:
    """Make (or renew) the client's personal link; any older link stops working."""
    case = open_case(case_id)
    client = case.client
    link, token = AccessLink.issue(
        "client", dt.timedelta(days=CLIENT_LINK_DAYS), current_user, client=client
    )
    CaseEvent.create(case=case, actor=current_user, kind="link_created", detail="voor de cliënt")
    AuditEvent.record("create", link, object_type="accesslink")
    language = client.language if client.language in CLIENT_LANGUAGES else "nl"
    with force_locale(language):
        message = _(
            "Hallo %(name)s, op deze pagina zie je wanneer en waar je activiteit is:",
            name=client.first_name,
        )
    share = share_context(public_url("portal.show", token=token), message, phone=client.phone)
    share.update(purpose="client", link=link)
    return share_response(case, share)


@bp.post("/cases/<int:case_id>/client-link/revoke")
@login_required
def revoke_client_link(case_id: int) -> Response:
    """Stop the client's link at once."""
    case = open_case(case_id)
    links = list(AccessLink.current("client").where(AccessLink.client == case.client_id))
    for link in links:
        link.revoke()
        AuditEvent.record("revoke", link, object_type="accesslink")
    if links:
        CaseEvent.create(
            case=case, actor=current_user, kind="link_revoked", detail="voor de cliënt"
        )
    return case_offer_fragment(case, _("De link werkt niet meer."), "client_link")


@bp.post("/cases/<int:case_id>/enrolments/<int:enrolment_id>/provider-link")
@login_required
def create_provider_link(case_id: int, enrolment_id: int) -> Response:
    """Make (or renew) the provider's attendance link for an enrolment and its sessions."""
    case = open_case(case_id)
    enrolment = Enrolment.get_for_case(case, enrolment_id)
    if not enrolment.is_active:
        return case_offer_fragment(
            case, _("Deze inschrijving is gestopt."), "enrolment", enrolment.id
        )
    last = (
        Session.select(Session.starts_at)
        .where(Session.enrolment == enrolment)
        .order_by(Session.starts_at.desc())
        .scalar()
    ) or utcnow()
    now = utcnow()
    expires = max(
        last + dt.timedelta(days=PROVIDER_LINK_DAYS_AFTER_LAST_SESSION), now + dt.timedelta(days=7)
    )
    expires = min(expires, now + dt.timedelta(days=180))
    link, token = AccessLink.issue("provider", expires - now, current_user, enrolment=enrolment)
    provider = enrolment.activity.provider
    CaseEvent.create(
        case=case,
        actor=current_user,
        kind="provider_link_created",
        detail=f"voor {provider.name}, {enrolment.activity.title}",
    )
    AuditEvent.record("create", link, object_type="accesslink")
    who = case.client.short_name
    message = _(
        "Dag %(provider)s, wilt u via deze link laten weten of %(who)s er was bij %(title)s?"
        " Er is geen account nodig.",
        provider=provider.contact_name or provider.name,
        who=who,
        title=enrolment.activity.title,
    )
    share = share_context(
        public_url("attendance.show", token=token),
        message,
        subject=_("Aanwezigheid %(who)s — %(title)s", who=who, title=enrolment.activity.title),
        email=provider.email,
        phone=provider.phone,
    )
    share.update(purpose="provider", link=link, enrolment=enrolment)
    return share_response(case, share)


@bp.post("/cases/<int:case_id>/enrolments/<int:enrolment_id>/provider-week-link")
@login_required
def create_provider_week_link(case_id: int, enrolment_id: int) -> Response:
    """One attendance link for all our participants at this provider in the coming 7 days,
    whoever their mediator is: a provider with five participants gets one link, not five."""
    case = open_case(case_id)
    enrolment = Enrolment.get_for_case(case, enrolment_id)
    if not enrolment.is_active:
        return case_offer_fragment(
            case, _("Deze inschrijving is gestopt."), "enrolment", enrolment.id
        )
    provider = enrolment.activity.provider
    start = to_utc(dt.datetime.combine(local_today(), dt.time()))
    end = to_utc(
        dt.datetime.combine(local_today() + dt.timedelta(days=PROVIDER_WEEK_DAYS), dt.time())
    )
    link, token = AccessLink.issue(
        "provider",
        end + dt.timedelta(days=PROVIDER_LINK_DAYS_AFTER_LAST_SESSION) - utcnow(),
        current_user,
        provider=provider,
        period_start=start,
    )
    AccessLink.update(period_end=end).where(AccessLink.id == link.id).execute()
    last_day = end - dt.timedelta(days=1)
    CaseEvent.create(
        case=case,
        actor=current_user,
        kind="provider_link_created",
        detail=f"voor {provider.name}, alle deelnemers tot {session_label(last_day)[:-6]}",
    )
    AuditEvent.record("create", link, object_type="accesslink")
    message = _(
        "Dag %(provider)s, wilt u via deze link laten weten wie van onze deelnemers er was,"
        " tot en met %(day)s? Er is geen account nodig.",
        provider=provider.contact_name or provider.name,
        day=format_date(last_day, "EEEE d MMMM"),
    )
    share = share_context(
        public_url("attendance.show", token=token),
        message,
        subject=_("Aanwezigheid deelnemers — %(provider)s", provider=provider.name),
        email=provider.email,
        phone=provider.phone,
    )
    share.update(purpose="provider", link=link, enrolment=enrolment)
    return share_response(case, share)


@bp.post("/cases/<int:case_id>/enrolments/<int:enrolment_id>/provider-link/revoke")
@login_required
def revoke_provider_link(case_id: int, enrolment_id: int) -> Response:
    """Stop the provider's attendance links at once: the enrolment's, and the week link for
    that provider the user made (it shows every participant there: a link sent to the wrong
    address must stop too)."""
    case = open_case(case_id)
    enrolment = Enrolment.get_for_case(case, enrolment_id)
    week_link_of_user = (AccessLink.provider == enrolment.activity.provider_id) & (
        AccessLink.created_by == current_user.id
    )
    links = list(
        AccessLink.current("provider").where(
            (AccessLink.enrolment == enrolment) | week_link_of_user
        )
    )
    for link in links:
        link.revoke()
        AuditEvent.record("revoke", link, object_type="accesslink")
    if links:
        CaseEvent.create(
            case=case,
            actor=current_user,
            kind="link_revoked",
            detail=f"aanwezigheid voor {enrolment.activity.provider.name}",
        )
    return case_offer_fragment(case, _("De link werkt niet meer."), "enrolment", enrolment.id)
