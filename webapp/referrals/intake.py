"""Intake: coordinators accept a referral (opening a case for a mediator) or decline it."""

from __future__ import annotations

from urllib.parse import quote

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from peewee import JOIN, fn
from werkzeug import Response

from webapp.auth import coordinator_required
from webapp.forms import options
from webapp.htmx import render_page_or_block
from webapp.models import (
    SERVICES,
    AuditEvent,
    Case,
    Client,
    Referral,
    ThresholdCategory,
    User,
    referrals_waiting,
    referrals_without_first_contact,
)
from webapp.models.search import contains, phone_forms
from webapp.referrals import bp
from webapp.referrals.forms import AcceptForm, DeclineForm


def mailto(referral: Referral, mediator: User | None = None) -> str:
    """A prefilled e-mail to the referrer; it names only the reference, never the person."""
    if referral.status == "accepted":
        subject = _("Doorverwijzing %(reference)s aanvaard", reference=referral.reference)
        body = _(
            "Beste %(name)s,\n\nWe hebben je doorverwijzing %(reference)s aanvaard. "
            "%(mediator)s van het team vrije tijd neemt contact op met de persoon.\n\n"
            "Met vriendelijke groet,\nTeam vrije tijd",
            name=referral.referrer_name,
            reference=referral.reference,
            mediator=mediator.name if mediator else _("Een bemiddelaar"),
        )
    else:
        subject = _("Doorverwijzing %(reference)s", reference=referral.reference)
        body = _(
            "Beste %(name)s,\n\nWe kunnen je doorverwijzing %(reference)s niet opnemen. "
            "De reden: %(reason)s\n\nMet vriendelijke groet,\nTeam vrije tijd",
            name=referral.referrer_name,
            reference=referral.reference,
            reason=referral.decline_reason,
        )
    return f"mailto:{quote(referral.referrer_email)}?subject={quote(subject)}&body={quote(body)}"


def _accept_form(referral: Referral, candidates: list[Client]) -> AcceptForm:
    form = AcceptForm()
    # No one is preselected: the coordinator chooses the mediator on purpose.
    form.mediator.choices = options(
        [("", _("— kies —"))]
        + [
            (user_id, f"{name} ({SERVICES.get(service, service)})")
            for user_id, name, service in User.mediators()
            .select(User.id, User.name, User.service)
            .tuples()
        ]
    )
    form.client.choices = options(
        [
            (
                str(c.id),
                _(
                    "Koppelen aan bestaande cliënt %(name)s (dossiers: %(count)s)",
                    name=c.full_name,
                    count=c.case_count,  # type: ignore[attr-defined]  # selected .alias()
                ),
            )
            for c in candidates
        ]
        + [("new", _("Nieuwe cliënt aanmaken"))]
    )
    if not candidates and not form.client.data:
        form.client.data = "new"
    return form


def _candidates(referral: Referral) -> list[Client]:

    if referral.birth_date is not None:
        matches = Client.probable_duplicates(
            referral.first_name, referral.last_name, referral.birth_date
        )
    elif referral.is_self_request and phone_forms(referral.phone):
        # A request from /vraag has an age, not a birth date: the phone number finds the person.
        matches = Client.select().where(
            contains(Client.search_text, phone_forms(referral.phone)[0])
        )
    else:
        return []
    return list(
        matches.select(Client, fn.COUNT(Case.id).alias("case_count"))
        .join(Case, JOIN.LEFT_OUTER)
        .group_by(Client.id)
        .order_by(Client.id)
    )


def _load(referral_id: int) -> Referral:
    referral = Referral.get_with_organisation(referral_id)
    if referral is None:
        abort(404)
    return referral


def _show(
    referral: Referral,
    accept_form: AcceptForm | None = None,
    decline_form: DeclineForm | None = None,
    status: int = 200,
    conflict: bool = False,
) -> Response:
    candidates = _candidates(referral) if referral.is_new else []
    # Only a new referral can be accepted, with a choice of the whole team.
    if accept_form is None and referral.is_new:
        accept_form = _accept_form(referral, candidates)
    categories = {
        c.key: c.display_label
        for c in ThresholdCategory.select().where(
            ThresholdCategory.key.in_(referral.threshold_keys)
        )
    }
    handled_mediator = None
    if referral.status == "accepted" and referral.case_id:
        case = Case.select(Case, User).join(User).where(Case.id == referral.case_id).first()
        handled_mediator = case.mediator if case else None
    return render_page_or_block(
        "referrals/show.html",
        "decision",
        status=status,
        referral=referral,
        candidates=candidates,
        accept_form=accept_form,
        decline_form=decline_form or DeclineForm(),
        threshold_labels=[categories.get(k, k) for k in referral.threshold_keys],
        mailto=None
        if referral.is_new or referral.is_self_request
        else mailto(referral, handled_mediator),
        handled_mediator=handled_mediator,
        conflict=conflict,
    )


@bp.get("/referrals/")
@coordinator_required
def index() -> Response:
    """The intake list: referrals waiting for a decision, and the ones handled lately."""
    return render_page_or_block(
        "referrals/index.html",
        "content",
        waiting=referrals_waiting(),
        late_referrals=referrals_without_first_contact(),
        handled=Referral.recently_handled(),
    )


@bp.get("/referrals/<int:referral_id>")
@coordinator_required
def show(referral_id: int) -> Response:
    """One referral with what is needed to accept or decline it."""
    referral = _load(referral_id)
    AuditEvent.record("view", referral)
    return _show(referral)


@bp.post("/referrals/<int:referral_id>/accept")
@coordinator_required
def accept(referral_id: int) -> Response:
    """Open a case for the referred person, assigned to the chosen mediator."""
    referral = _load(referral_id)
    if not referral.is_new:
        return _show(referral, status=409, conflict=True)
    candidates = _candidates(referral)
    form = _accept_form(referral, candidates)
    if not form.validate_on_submit():
        return _show(referral, accept_form=form, status=422)
    mediator = User.get_or_none(User.id == int(form.mediator.data), User.active == True)  # noqa: E712
    client = None
    if form.client.data != "new":
        client = next((c for c in candidates if str(c.id) == form.client.data), None)
        if client is None:
            form.client.errors = [_("Kies een cliënt uit de lijst.")]
            return _show(referral, accept_form=form, status=422)
    if mediator is None:
        form.mediator.errors = [_("Kies een bemiddelaar uit de lijst.")]
        return _show(referral, accept_form=form, status=422)
    case = referral.accept(current_user._get_current_object(), mediator, client)
    if case is None:
        return _show(_load(referral_id), status=409, conflict=True)
    AuditEvent.record("accept", referral)
    AuditEvent.record("create", case)
    # The coordinator's next step is the new case; the referral page keeps the mail to send.
    flash(
        _(
            "Doorverwijzing %(reference)s aanvaard: dit is het nieuwe dossier, voor %(mediator)s.",
            reference=referral.reference,
            mediator=mediator.name,
        )
    )
    return redirect(url_for("cases.show", case_id=case.id), 303)


@bp.post("/referrals/<int:referral_id>/decline")
@coordinator_required
def decline(referral_id: int) -> Response:
    """Decline a referral with a reason the referrer can be told."""
    referral = _load(referral_id)
    if not referral.is_new:
        return _show(referral, status=409, conflict=True)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _show(referral, decline_form=form, status=422)
    if not referral.decline(current_user._get_current_object(), form.reason.data):
        return _show(_load(referral_id), status=409, conflict=True)
    AuditEvent.record("decline", referral)
    return redirect(url_for("referrals.show", referral_id=referral.id), 303)
