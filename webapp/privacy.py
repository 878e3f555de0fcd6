"""Privacy a data protection officer signs off: the "Te wissen" list of clients whose data
reaches its retention term (erase now, or keep six months longer with a reason) and the
`apply-retention` command that erases what is past its term (README, "Bewaartermijnen")."""

from __future__ import annotations

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from webapp.htmx import redirect_to, render_page_or_block
from webapp.models import (
    AuditEvent,
    Case,
    Client,
    anonymise_client,
    can_anonymise,
    clients_due,
    database,
)
from webapp.models.privacy import (
    DUE_AHEAD,
    HOLD_MONTHS,
    apply_retention,
    client_export,
    keep_longer,
    term_of,
)
from webapp.timeutil import utcnow
from webapp.twofactor import recent_login_required

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


class KeepForm(FlaskForm):
    reason = StringField(
        _l("Reden"),
        validators=[
            DataRequired(_l("Schrijf waarom je de gegevens langer bewaart.")),
            Length(max=200, message=_l("Hoogstens 200 tekens.")),
        ],
    )


@bp.before_request
@login_required
def coordinators_only() -> None:
    """Every privacy URL is 'not found' for a mediator, as another mediator's case is."""
    if not current_user.is_coordinator:
        abort(404)


def _due_page(status: int = 200, form: KeepForm | None = None, case_id: int = 0) -> Response:
    now = utcnow()
    due = clients_due(now, DUE_AHEAD)
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


def init_app(app: Flask) -> None:
    app.cli.add_command(apply_retention_command)


EXPORT_TITLES = {
    "client": _l("De persoon"),
    "cases": _l("Dossiers"),
    "visits": _l("Contacten"),
    "steps": _l("Stappen"),
    "timeline": _l("Tijdlijn"),
    "thresholds": _l("Drempels"),
    "enrolments": _l("Inschrijvingen"),
    "sessions": _l("Keren dat de persoon naar een activiteit ging"),
    "kept_longer": _l("Langer bewaard"),
    "referrals": _l("Aanmeldingen door een doorverwijzer"),
    "links": _l("Persoonlijke links (zonder de link zelf)"),
    "audit": _l("Wie het dossier bekeek of wijzigde"),
}


@bp.get("/clients/<int:client_id>/inzage")
@recent_login_required
def export(client_id: int) -> Response:
    """(Coordinator) everything kept about one client, as a printable page or (?as=json) JSON:
    the answer to an access request (GDPR art. 15). Audited."""
    client = Client.get_or_none(Client.id == client_id)
    if client is None:
        abort(404)
    data = client_export(client)
    AuditEvent.record("export", client)
    if request.args.get("as") == "json":
        response = jsonify(data)
        response.headers["Content-Disposition"] = f'attachment; filename="inzage-{client.id}.json"'
        return response
    return render_template(
        "privacy/export.html", client=client, data=data, titles=EXPORT_TITLES, now=utcnow()
    )
