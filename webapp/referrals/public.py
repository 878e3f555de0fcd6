"""The referral form behind an organisation's capability link: /r/<token>, no account needed."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import Response, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from peewee import IntegrityError

from webapp.models import (
    FIRST_CONTACT_TERM,
    REFERRER_STATUSES,
    AccessLink,
    AuditEvent,
    Referral,
    SecurityEvent,
    ThresholdCategory,
    Throttle,
    referrals_for_referrer,
)
from webapp.referrals import bp
from webapp.referrals.forms import CONSENT_TEXT, ReferralForm

MAX_FAILED_LOOKUPS = 20
LOOKUP_WINDOW = dt.timedelta(minutes=15)


def _address_key() -> str:
    return "ref-ip:" + hashlib.sha256((request.remote_addr or "").encode()).hexdigest()[:40]


def _public(body: str, status: int = 200) -> Response:
    """A page of the public form: never cached, never indexed."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _problem(status: int) -> Response:
    return _public(render_template("referrals/link_problem.html", code=status), status)


def _link_or_problem(token: str) -> AccessLink | Response:
    """The usable link for this token; else 404 (unknown), 410 (revoked/expired) or 429."""
    key = _address_key()
    if Throttle.count_for(key, LOOKUP_WINDOW) >= MAX_FAILED_LOOKUPS:
        SecurityEvent.record("link-throttled")
        return _problem(429)
    link = AccessLink.find("referral", token)
    if link is None or link.organisation_id is None:
        Throttle.hit(key, LOOKUP_WINDOW)
        SecurityEvent.record("link-unknown")
        return _problem(404)
    if not link.is_usable or link.organisation.archived:
        return _problem(410)
    return link


def _categories() -> list[tuple[str, str]]:
    return [
        (c.key, c.display_label)
        for c in ThresholdCategory.select().order_by(ThresholdCategory.position)
    ]


def _render_form(form: ReferralForm, link: AccessLink, token: str, status: int = 200) -> Response:
    return _public(
        render_template(
            "referrals/form.html", form=form, organisation=link.organisation, token=token
        ),
        status,
    )


@bp.get("/r/<token>")
def form(token: str) -> Response:
    """The referral form of one organisation (reading only: opening it changes nothing)."""
    link = _link_or_problem(token)
    if isinstance(link, Response):
        return link
    return _render_form(ReferralForm(categories=_categories()), link, token)


@bp.post("/r/<token>")
def submit(token: str) -> Response:
    """Store the referral once, whatever the number of taps, then show its reference number."""
    link = _link_or_problem(token)
    if isinstance(link, Response):
        return link
    form = ReferralForm(categories=_categories())
    if not form.validate_on_submit():
        return _render_form(form, link, token, 422)
    key = form.idempotency_key.data
    existing = Referral.by_key(key)
    if existing is None:
        fields = {
            name: getattr(form, name).data
            for name in (
                "referrer_name",
                "referrer_role",
                "referrer_email",
                "referrer_phone",
                "first_name",
                "last_name",
                "birth_date",
                "phone",
                "language",
                "district",
                "household",
                "interests",
                "question",
                "first_contact",
                "street",
                "postcode",
            )
        }
        fields["referrer_email"] = fields["referrer_email"].lower()
        try:
            referral = Referral.submit(
                link.organisation,
                idempotency_key=key,
                domains=",".join(form.domains.data or []),
                known_thresholds=",".join(form.known_thresholds.data or []),
                consent_text=str(CONSENT_TEXT),
                **fields,
            )
        except IntegrityError:
            # The same form sent twice at the same moment: the first one won.
            existing = Referral.by_key(key)
            if existing is None:
                raise
        else:
            link.mark_used()
            AuditEvent.record("create", referral, link=link.id)
            existing = referral
    if existing.organisation_id != link.organisation_id:
        return _problem(404)
    return redirect(url_for("referrals.received", token=token, reference=existing.reference), 303)


@bp.get("/r/<token>/ontvangen/<reference>")
def received(token: str, reference: str) -> Response:
    """The confirmation: only the reference number, never the data sent."""
    link = _link_or_problem(token)
    if isinstance(link, Response):
        return link
    referral = Referral.get_or_none(
        Referral.reference == reference, Referral.organisation == link.organisation_id
    )
    if referral is None:
        return _problem(404)
    return _public(
        render_template(
            "referrals/received.html",
            reference=referral.reference,
            organisation=link.organisation,
            token=token,
            title=_("Doorverwijzing ontvangen"),
        )
    )


@bp.get("/r/<token>/opvolging")
def status_list(token: str) -> Response:
    """The referrals sent through this organisation's link, each with its reference and status.

    A link can be forwarded, so this page names no referred person: a social worker recognises
    their referral by the reference on the confirmation, the day it was sent and their own first
    name (the only name shown, and one they typed themselves). No notes, no thresholds, no
    mediator; reading only."""
    link = _link_or_problem(token)
    if isinstance(link, Response):
        return link
    return _public(
        render_template(
            "referrals/status_list.html",
            rows=referrals_for_referrer(link.organisation),
            statuses=REFERRER_STATUSES,
            term_days=FIRST_CONTACT_TERM.days,
            organisation=link.organisation,
            token=token,
        )
    )
