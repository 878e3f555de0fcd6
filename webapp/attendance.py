"""The provider's attendance page, opened with a link (/a/<token>) and no account: which
participant comes to which session, and "present" / "not present" with an optional remark."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from webapp.forms import max_length, strip
from webapp.models import Activity, AuditEvent, Case, Client, Enrolment, Provider, Session
from webapp.portal import init_link_blueprint, link_error, open_link, page_context, set_language

bp = Blueprint("attendance", __name__)
init_link_blueprint(bp)

PROVIDER_LANGUAGES = {"nl": "Nederlands", "en": "English", "fr": "Français"}


class PresenceForm(FlaskForm):
    """Present or not, for one session (the CSRF token is checked for the whole blueprint)."""

    class Meta:
        csrf = False

    attendance = RadioField(
        choices=[
            SelectChoice("present", _l("Aanwezig")),
            SelectChoice("absent", _l("Niet aanwezig")),
        ],
        validators=[InputRequired(_l("Kies aanwezig of niet aanwezig."))],
    )
    remark = StringField(
        _l("Opmerking (mag leeg blijven)"), filters=[strip], validators=[max_length(300)]
    )


def enrolment_of(link: Any) -> Enrolment:
    """The link's enrolment with its activity, provider, case and client (one query)."""
    enrolment = (
        Enrolment.select(Enrolment, Activity, Provider, Case, Client)
        .join(Activity)
        .join(Provider)
        .switch(Enrolment)
        .join(Case)
        .join(Client)
        .where(Enrolment.id == link.enrolment_id, Enrolment.status == "active")
        .first()
    )
    if enrolment is None:
        abort(link_error(410, PROVIDER_LANGUAGES))
    return enrolment


def render_page(token: str, enrolment: Enrolment, language: str, **extra: Any) -> str:
    return render_template(
        "attendance/show.html",
        token=token,
        enrolment=enrolment,
        activity=enrolment.activity,
        participant=enrolment.case.client.short_name,
        sessions=Session.for_provider_page(enrolment),
        **page_context(language, PROVIDER_LANGUAGES),
        **extra,
    )


@bp.get("/a/<token>")
def show(token: str) -> str:
    """The participant's sessions, with a yes/no for each one that has begun."""
    link = open_link("provider", token, PROVIDER_LANGUAGES)
    language = set_language(PROVIDER_LANGUAGES)
    return render_page(token, enrolment_of(link), language)


@bp.post("/a/<token>/sessions/<int:session_id>")
def confirm(token: str, session_id: int) -> Any:
    """Store present / not present; the provider may correct it until the link expires."""
    link = open_link("provider", token, PROVIDER_LANGUAGES)
    language = set_language(PROVIDER_LANGUAGES)
    enrolment = enrolment_of(link)
    session = Session.get_or_none(Session.id == session_id, Session.enrolment == enrolment)
    if session is None:
        abort(link_error(404, PROVIDER_LANGUAGES))
    form = PresenceForm(request.form)
    if not session.can_record_attendance:
        form.validate()
        form.attendance.errors = [_("Deze activiteit is nog niet begonnen.")]
        return render_page(token, enrolment, language, failed=(session.id, form)), 422
    if not form.validate():
        return render_page(token, enrolment, language, failed=(session.id, form)), 422
    session.enrolment = enrolment
    if session.record_attendance(form.attendance.data, form.remark.data or "", via="provider"):
        AuditEvent.record("attendance", session, link=link.id, object_type="session")
    link.mark_used()
    flash(
        _("Bewaard: %(who)s was er.", who=enrolment.case.client.first_name)
        if form.attendance.data == "present"
        else _("Bewaard: %(who)s was er niet.", who=enrolment.case.client.first_name)
    )
    return redirect(url_for("attendance.show", token=token, lang=language), 303)
