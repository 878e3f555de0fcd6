"""Referring organisations and the capability link to each one's referral form."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug import Response

from webapp.auth import coordinator_required
from webapp.forms import differences, parse_int
from webapp.htmx import render_page_or_block, with_trigger
from webapp.links import public_url
from webapp.models import AccessLink, AuditEvent, ReferringOrganisation, database
from webapp.referrals import bp
from webapp.referrals.forms import OrganisationForm

LINK_VALID_FOR = dt.timedelta(days=365)


def _current_links(organisation_ids: list[int] | None = None) -> dict[int, AccessLink]:
    """The usable form link per organisation (one query)."""
    query = AccessLink.current("referral").where(AccessLink.organisation.is_null(False))
    if organisation_ids is not None:
        query = query.where(AccessLink.organisation.in_(organisation_ids))
    links: dict[int, AccessLink] = {}
    for link in query:
        links.setdefault(link.organisation_id, link)
    return links


def _values(form: OrganisationForm) -> dict[str, object]:
    """What the form edits (never the version: that is the database's to raise)."""
    fields = ("name", "kind", "district", "email", "phone", "archived")
    return {name: getattr(form, name).data for name in fields}


def _load(organisation_id: int) -> ReferringOrganisation:
    organisation = ReferringOrganisation.get_or_none(ReferringOrganisation.id == organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def _show(
    organisation: ReferringOrganisation,
    form: OrganisationForm | None = None,
    new_url: str | None = None,
    status: int = 200,
    block: str = "content",
    differences: list[tuple[str, str, str]] | None = None,
) -> Response:
    link = _current_links([organisation.id]).get(organisation.id)
    mail = None
    if new_url and organisation.email:
        body = _(
            "Beste,\n\nMet deze link verwijst u iemand door naar het team vrije tijd:\n%(url)s\n\n"
            "Bewaar de link goed en deel hem alleen binnen uw dienst.",
            url=new_url,
        )
        subject = _("Doorverwijsformulier team vrije tijd")
        mail = f"mailto:{quote(organisation.email)}?subject={quote(subject)}&body={quote(body)}"
    return render_page_or_block(
        "referrals/organisation.html",
        block,
        status=status,
        organisation=organisation,
        form=form or OrganisationForm(obj=organisation),
        link=link,
        new_url=new_url,
        mail=mail,
        differences=differences,
    )


@bp.get("/referrals/organisations")
@coordinator_required
def organisations() -> Response:
    """The referring organisations, with the state of their form link."""
    show_archived = request.args.get("archief") == "1"
    orgs = list(ReferringOrganisation.listed(include_archived=show_archived))
    return render_page_or_block(
        "referrals/organisations.html",
        "content",
        organisations=orgs,
        links=_current_links(),
        show_archived=show_archived,
        form=OrganisationForm(formdata=None),
    )


@bp.post("/referrals/organisations")
@coordinator_required
def create_organisation() -> Response:
    """Add a referring organisation."""
    form = OrganisationForm()
    if not form.validate_on_submit():
        return render_page_or_block(
            "referrals/organisations.html",
            "content",
            status=422,
            organisations=list(ReferringOrganisation.listed()),
            links=_current_links(),
            show_archived=False,
            form=form,
        )
    organisation = ReferringOrganisation.create(**_values(form))
    AuditEvent.record("create", organisation)
    return redirect(url_for("referrals.organisation", organisation_id=organisation.id), 303)


@bp.get("/referrals/organisations/<int:organisation_id>")
@coordinator_required
def organisation(organisation_id: int) -> Response:
    """One organisation: its details and its referral-form link."""
    return _show(_load(organisation_id))


@bp.post("/referrals/organisations/<int:organisation_id>")
@coordinator_required
def update_organisation(organisation_id: int) -> Response:
    """Change an organisation's details (archiving it also closes its form)."""
    organisation = _load(organisation_id)
    form = OrganisationForm()
    if not form.validate_on_submit():
        return _show(organisation, form=form, status=422)
    saved = (
        ReferringOrganisation.update(**_values(form), version=ReferringOrganisation.version + 1)
        .where(
            ReferringOrganisation.id == organisation.id,
            ReferringOrganisation.version == parse_int(form.version.data),
        )
        .execute()
    )
    if not saved:
        # Someone else saved it in between: what differs is shown, this input kept.
        organisation = _load(organisation_id)
        form.version.data = organisation.version
        changed = differences(form, organisation, list(_values(form)))
        if changed:
            return _show(organisation, form=form, status=409, differences=changed)
        return with_trigger(_show(organisation), "announce", _("Bewaard."))
    AuditEvent.record("update", organisation)
    return with_trigger(_show(_load(organisation_id)), "announce", _("Bewaard."))


@bp.post("/referrals/organisations/<int:organisation_id>/link")
@coordinator_required
def issue_link(organisation_id: int) -> Response:
    """Make a new form link (the previous one stops working); its address is shown only now."""
    organisation = _load(organisation_id)
    with database.atomic():
        link, token = AccessLink.issue(
            "referral",
            valid_for=LINK_VALID_FOR,
            created_by=current_user._get_current_object(),
            organisation=organisation,
        )
        AuditEvent.record("create", link)
    response = _show(
        organisation, new_url=public_url("referrals.form", token=token), block="form_link"
    )
    return with_trigger(response, "announce", _("Nieuwe link gemaakt."))


@bp.post("/referrals/organisations/<int:organisation_id>/link/revoke")
@coordinator_required
def revoke_link(organisation_id: int) -> Response:
    """Stop the organisation's form link."""
    organisation = _load(organisation_id)
    link = _current_links([organisation.id]).get(organisation.id)
    if link is not None:
        link.revoke()
        AuditEvent.record("revoke", link)
    response = _show(organisation, block="form_link")
    return with_trigger(response, "announce", _("De link werkt niet meer."))
