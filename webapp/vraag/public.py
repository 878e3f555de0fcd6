"""/vraag: a person asks for help themselves, in their language, without an account; the
confirmation says when they will be called; the poster points people to it.

Against programs that fill in forms, without a third party: a field people never see (the
honeypot), a signed time the form was opened (too fast is a program), a limit per address (the
proxy-aware one of the login and link throttles), a size limit on every field and on the body,
and the idempotency key of the referral form against double taps."""

from __future__ import annotations

import datetime as dt

from babel.dates import get_day_names
from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from peewee import IntegrityError
from werkzeug import Response

# What the page shares with the client's page (languages, right to left) and the links the app
# makes (PUBLIC_BASE_URL, QR codes): imported here only, so moving them is a one-place change.
from webapp.activities.links import qr_svg
from webapp.errors import refused_csrf
from webapp.links import CLIENT_LANGUAGES, page_context, public_url, set_language
from webapp.models import (
    CALL_MOMENTS,
    FIRST_CONTACT_TERM,
    LANGUAGES,
    AuditEvent,
    Referral,
    SecurityEvent,
    Throttle,
    WalkInHours,
    in_team_language,
)
from webapp.security import address_key
from webapp.timeutil import local_today
from webapp.vraag import bp
from webapp.vraag.forms import (
    CONSENT,
    FOR_WHOM_CHOICES,
    LIKES,
    MIN_SECONDS,
    VraagForm,
    opened_stamp,
    seconds_open,
)

MAX_PER_ADDRESS = 10  # requests sent from one address in an hour: a family, a help desk
ADDRESS_WINDOW = dt.timedelta(hours=1)
MAX_BODY = 16 * 1024  # the form with every field full is about 3 KB
CONFIRMATION_AGE = 24 * 3600


def _public(body: str, status: int = 200) -> Response:
    """A page of the front door: never cached (it holds a CSRF token), not indexed."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def walk_in_hours() -> list[dict[str, str]]:
    """The active walk-in hours, each with its day named in the page's language (one query)."""
    days = get_day_names("wide", locale=get_locale())
    return [
        {
            "day": days[h.weekday - 1],
            "hours": h.hours,
            "place": h.place,
            "address": h.address,
            "note": h.note,
        }
        for h in WalkInHours.shown()
    ]


def _render(form: VraagForm, language: str, status: int = 200, notice: str = "") -> Response:
    return _public(
        render_template(
            "vraag/page.html",
            form=form,
            likes=LIKES,
            notice=notice,
            walk_in=walk_in_hours(),
            **page_context(language, CLIENT_LANGUAGES),
        ),
        status,
    )


def _confirmation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="vraag-received")


def _received(language: str, form: VraagForm, until: dt.date) -> Response:
    """To the confirmation: what it says travels signed in the address (no name, no number),
    so a reload shows it again and a refused program gets the very same answer."""
    how = "phone" if form.phone.data else "email"
    moment = form.call_moment.data if form.call_moment.data in CALL_MOMENTS else "altijd"
    token = confirmation_token(until, moment, how)
    return redirect(url_for("vraag.received", t=token, lang=language), 303)


def confirmation_token(until: dt.date, moment: str, how: str) -> str:
    """What the confirmation says, signed: the day we call by, the moment, phone or e-mail."""
    return _confirmation_serializer().dumps({"u": until.isoformat(), "m": moment, "h": how})


def _call_by() -> dt.date:
    return local_today() + FIRST_CONTACT_TERM


@bp.get("/vraag")
def page() -> Response:
    """The form (reading only: opening it changes nothing)."""
    language = set_language(CLIENT_LANGUAGES)
    return _render(VraagForm(language=language), language)


@bp.post("/vraag")
def create() -> Response:
    """Store the request once as a referral of source 'zelf', then show the confirmation."""
    language = set_language(CLIENT_LANGUAGES)
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    form = VraagForm(language=language)
    if form.website.data:
        # Only a program fills a field nobody sees: it gets the same answer, nothing is stored.
        Throttle.hit(address_key("vraag"), ADDRESS_WINDOW)
        return _received(language, form, _call_by())
    if not form.validate_on_submit():
        return _render(form, language, 422)
    if not _open_long_enough(form):
        # Too fast for a person, or a form from another day. A program learns no more than from
        # any other error.
        return _look_again(form, language, 422)
    existing = Referral.by_key(form.idempotency_key.data)
    if existing is not None:
        return _received(language, form, _call_by())
    key = address_key("vraag")
    if Throttle.count_for(key, ADDRESS_WINDOW) >= MAX_PER_ADDRESS:
        SecurityEvent.record("vraag-throttled")
        return _render(
            form,
            language,
            429,
            notice=_(
                "Er kwamen veel vragen na elkaar van dit toestel of netwerk. Probeer het over een "
                "uur opnieuw, of kom langs op een permanentie."
            ),
        )
    try:
        referral = Referral.submit(None, **_fields(form))
    except IntegrityError:
        # The same form sent twice at the same moment: the first one won.
        if Referral.by_key(form.idempotency_key.data) is None:
            raise
    else:
        Throttle.hit(key, ADDRESS_WINDOW)
        AuditEvent.record("create", referral)
    return _received(language, form, _call_by())


@bp.errorhandler(CSRFError)
def _session_gone(error: CSRFError) -> Response | tuple[str, int]:
    """The form was sent without the session it was shown in: the phone's browser was closed
    in between (a session cookie goes with it), or the page stood open for days. Nothing is
    stored; what was typed comes back with a fresh token, and one more tap sends it."""
    if request.endpoint != "vraag.create" or (request.content_length or 0) > MAX_BODY:
        return refused_csrf(error)
    SecurityEvent.record("csrf")
    language = set_language(CLIENT_LANGUAGES)
    return _look_again(VraagForm(language=language), language, 400)


def _open_long_enough(form: VraagForm) -> bool:
    """Whether the form's signed stamp says a person had it open long enough (and not since
    another day)."""
    elapsed = seconds_open(form.opened.data)
    return elapsed is not None and elapsed >= current_app.config.get(
        "VRAAG_MIN_SECONDS", MIN_SECONDS
    )


def _look_again(form: VraagForm, language: str, status: int) -> Response:
    """What was typed, back on the form to send with one more tap: with a new stamp when the
    old one does not pass, so that the next tap does."""
    if not _open_long_enough(form):
        form.opened.data = opened_stamp()
    return _render(
        form, language, status, notice=_("Kijk je antwoorden nog eens na en druk op Versturen.")
    )


def _fields(form: VraagForm) -> dict[str, object]:
    """The referral's columns from the form; the summary for the team in the team's language,
    the consent in the words the person read."""
    likes = [k for k in form.likes.data or [] if k in LIKES]
    with in_team_language():
        who = str(FOR_WHOM_CHOICES[form.for_whom.data])
        interests = ", ".join(str(LIKES[k][0]) for k in likes)
        question = _(
            "Zelf gevraagd via /vraag: %(who)s, %(age)s jaar. Best bellen: %(moment)s.",
            who=who.lower(),
            age=form.age.data,
            moment=str(CALL_MOMENTS[form.call_moment.data]),
        )
    name = form.name.data
    return {
        "source": "zelf",
        "idempotency_key": form.idempotency_key.data,
        "referrer_name": "",  # nobody referred: the person's own name is first_name
        "first_name": name,
        "last_name": "",
        "phone": form.phone.data or "",
        "email": (form.email.data or "").lower() or None,
        "language": form.language.data,
        "for_whom": form.for_whom.data,
        "age": form.age.data,
        "whatsapp": bool(form.whatsapp.data),
        "call_moment": form.call_moment.data,
        "domains": form.domains(),
        "interests": interests[:200],
        "question": question,
        "first_contact": "bellen" if form.phone.data else "mailen",
        "consent_text": str(CONSENT),
    }


@bp.get("/vraag/ontvangen")
def received() -> Response:
    """The confirmation in the person's language: when we call (or mail), and the walk-in hours."""
    language = set_language(CLIENT_LANGUAGES)
    try:
        said = _confirmation_serializer().loads(request.args.get("t", ""), max_age=CONFIRMATION_AGE)
        until = dt.date.fromisoformat(said["u"])
        moment, how = CALL_MOMENTS[said["m"]], said["h"]
    except (BadSignature, KeyError, TypeError, ValueError):
        return redirect(url_for("vraag.page", lang=language), 303)
    return _public(
        render_template(
            "vraag/received.html",
            until_text=format_date(until, "EEEE d MMMM"),
            moment=moment,
            by_phone=how == "phone",
            walk_in=walk_in_hours(),
            language_query={"t": request.args["t"]},  # the language links keep the confirmation
            **page_context(language, CLIENT_LANGUAGES),
        )
    )


@bp.get("/vraag/affiche")
def poster() -> Response:
    """An A4 poster to print: the QR code of /vraag, one line in each language, the walk-in
    hours. The browser's print (or save as PDF) gives the page; the print stylesheet shapes it."""
    language = set_language({"nl": LANGUAGES["nl"]})
    url = public_url("vraag.page")
    lines = []
    for code, name in CLIENT_LANGUAGES.items():
        with force_locale(code):
            lines.append(
                {
                    "lang": code,
                    "dir": "rtl" if page_context(code, {})["page_dir"] == "rtl" else "ltr",
                    "text": _("Zoek je iets om te doen? Sport, muziek, spelen… Vraag het ons."),
                    "name": name,
                }
            )
    return _public(
        render_template(
            "vraag/poster.html",
            url=url,
            qr=qr_svg(url, _("QR-code van %(url)s", url=url)),
            lines=lines,
            walk_in=walk_in_hours(),
            **page_context(language, {}),
        )
    )
