"""The referral form behind an organisation's capability link: /r/<token>, no account needed."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from peewee import IntegrityError

from webapp.forms import parse_int
from webapp.htmx import load_more, render_page_or_block
from webapp.links import REFERRER_LANGUAGES, link_error, link_page
from webapp.models import (
    FIRST_CONTACT_TERM,
    REFERRER_PAGE_SIZE,
    REFERRER_STATUSES,
    AccessLink,
    AuditEvent,
    Referral,
    ThresholdCategory,
    referrals_for_referrer,
    with_referrer_status,
)
from webapp.referrals import bp
from webapp.referrals.forms import CONSENT_TEXT, ReferralForm


def _organisation_link(link: AccessLink) -> AccessLink:
    """The link of an organisation that still takes referrals (an archived one's link is gone)."""
    if link.organisation is None:  # no query when organisation_id is None
        abort(link_error(404, REFERRER_LANGUAGES, "referral"))
    if link.organisation.archived:
        abort(link_error(410, REFERRER_LANGUAGES, "referral"))
    return link


def _categories() -> list[tuple[str, str]]:
    return [
        (c.key, c.display_label)
        for c in ThresholdCategory.select().order_by(ThresholdCategory.position)
    ]


def _render_form(
    form: ReferralForm, link: AccessLink, token: str, status: int = 200, notice: str = ""
) -> Any:
    html = render_template(
        "referrals/form.html",
        form=form,
        organisation=link.organisation,
        token=token,
        notice=notice,
    )
    return html, status


def _sent_without_session(token: str, link: AccessLink) -> Any:
    """The form came back without the session it was shown in (the browser was closed in
    between, or the page stood open for days): nothing is stored; what was typed comes back
    with a fresh token, to send with one more tap."""
    link = _organisation_link(link)
    form = ReferralForm(categories=_categories())
    notice = _(
        "Je doorverwijzing is nog niet verstuurd: de pagina stond te lang open. Kijk ze na en "
        "druk opnieuw op Doorverwijzing versturen."
    )
    return _render_form(form, link, token, 400, notice)


@bp.get("/r/<token>")
@link_page("referral", REFERRER_LANGUAGES)
def form(token: str, link: AccessLink) -> Any:
    """The referral form of one organisation (reading only: opening it changes nothing)."""
    link = _organisation_link(link)
    return _render_form(ReferralForm(categories=_categories()), link, token)


@bp.post("/r/<token>")
@link_page("referral", REFERRER_LANGUAGES, stale_form=_sent_without_session)
def submit(token: str, link: AccessLink) -> Any:
    """Store the referral once, whatever the number of taps, then show its reference number."""
    link = _organisation_link(link)
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
        abort(link_error(404, REFERRER_LANGUAGES, "referral"))
    return redirect(url_for("referrals.received", token=token, reference=existing.reference), 303)


@bp.get("/r/<token>/ontvangen/<reference>")
@link_page("referral", REFERRER_LANGUAGES)
def received(token: str, link: AccessLink, reference: str) -> Any:
    """The confirmation: only the reference number, never the data sent."""
    link = _organisation_link(link)
    referral = Referral.get_or_none(
        Referral.reference == reference, Referral.organisation == link.organisation_id
    )
    if referral is None:
        abort(link_error(404, REFERRER_LANGUAGES, "referral"))
    return render_template(
        "referrals/received.html",
        reference=referral.reference,
        organisation=link.organisation,
        token=token,
        title=_("Doorverwijzing ontvangen"),
    )


@bp.get("/r/<token>/opvolging")
@link_page("referral", REFERRER_LANGUAGES)
def status_list(token: str, link: AccessLink) -> Any:
    """The referrals sent through this organisation's link, each with its reference and status.

    A link can be forwarded, so this page names no referred person: a social worker recognises
    their referral by the reference on the confirmation, the day it was sent and their own first
    name (the only name shown, and one they typed themselves). No notes, no thresholds, no
    mediator; reading only. The newest first, a page at a time ("Meer tonen"; ?page=n
    shows the first n pages)."""
    link = _organisation_link(link)
    page = max(1, min(parse_int(request.args.get("page")) or 1, 200))
    referrals, more, _rows_only = load_more(
        referrals_for_referrer(link.organisation),  # type: ignore[arg-type]  # has one
        page,
        REFERRER_PAGE_SIZE,
    )
    return render_page_or_block(
        "referrals/status_list.html",
        "rows",  # an htmx request wants the rows (the next ones after the first page)
        referrals=with_referrer_status(referrals),
        more=more,
        page=page,
        statuses=REFERRER_STATUSES,
        term_days=FIRST_CONTACT_TERM.days,
        organisation=link.organisation,
        token=token,
    )
