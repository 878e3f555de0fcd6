"""Capability links (/p/ for clients, /a/ for providers, /r/ for referrers): everything a page
opened with a link shares, in one place.

- `@link_page(purpose, languages)` opens the link for a view (a 404, 410 or 429 page in the
  visitor's language otherwise; failed look-ups are throttled per address), checks the CSRF
  token of a POST itself and sets the headers that keep the page private.
- `public_url()` makes the full address of a link for people outside the app.
- `set_language()` and `page_context()` choose and show the page's language.
- `install_log_filter()` masks tokens in every log line.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import refresh
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from webapp.extensions import csrf
from webapp.models import LANGUAGES, AccessLink, SecurityEvent, Throttle
from webapp.security import address_key

# Each language named in its own language (an endonym, as models.LANGUAGES names them): people
# look for their own word. The client page's languages are those its catalogues translate.
CLIENT_CODES = ("nl", "en", "fr", "ar", "tr", "pl", "ro", "uk")
CLIENT_LANGUAGES = {code: LANGUAGES[code] for code in CLIENT_CODES}
PROVIDER_LANGUAGES = {code: LANGUAGES[code] for code in ("nl", "en", "fr")}
# Referrers are social workers: the team's own languages.
REFERRER_LANGUAGES = {code: LANGUAGES[code] for code in ("nl", "en")}
RTL_LANGUAGES = {"ar"}

# One bucket per address for every kind of link: guessing /p/ and /r/ tokens counts together.
MAX_FAILED_LOOKUPS = 30
FAILED_LOOKUP_WINDOW = dt.timedelta(minutes=15)
# The page that says a link does not work, per purpose (a referrer reads the team's wording).
PROBLEM_PAGES = {"referral": "referrals/link_problem.html"}

TOKEN_IN_PATH = re.compile(r"(/[par]/)[A-Za-z0-9_\-]{6,}")
# A token on its own (secrets.token_urlsafe(32) is 43 characters), wherever it shows up.
TOKEN_ALONE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{40,}(?![A-Za-z0-9_\-])")
LOGGERS = ("", "webapp", "flask.app", "werkzeug", "gunicorn.access", "gunicorn.error", "peewee")


def init_app(app: Flask) -> None:
    """Mask tokens in the app's log; give every answer of a link page its headers."""
    install_log_filter(app.logger.name)
    app.after_request(_headers_of_link_pages)


def _headers_of_link_pages(response: Response) -> Response:
    return link_headers(response) if g.get("link_page") else response


# -- opening a link ----------------------------------------------------------------------------


def link_page(
    purpose: str, languages: dict[str, str], stale_form: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """Decorate the view of a link page: it gets the usable `link` for its `token` as a keyword,
    or the visitor gets the problem page. A POST must carry the CSRF token in its form or the
    X-CSRFToken header: the global check also wants a Referer on HTTPS, which these pages never
    send (Referrer-Policy: no-referrer keeps the token out of it). A POST without a valid token
    gets a 400 page ("open the link again"), or, for a form with `stale_form`, that view's
    answer (the form as sent, to send again: nothing is stored). Every answer, an error page
    too, gets `link_headers`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(token: str, **values: Any) -> Response:
            g.link_page = True
            stale = request.method == "POST" and not csrf_is_valid()
            if stale:
                SecurityEvent.record("csrf")
                if stale_form is None:
                    abort(link_error(400, languages, purpose))
            link = open_link(purpose, token, languages)
            answer_with = stale_form if stale and stale_form is not None else view
            return make_response(answer_with(token=token, link=link, **values))

        csrf.exempt(wrapped)
        return wrapped

    return decorate


def open_link(purpose: str, token: str, languages: dict[str, str]) -> AccessLink:
    """The usable link for this token, or a 404/410/429 page. Failed look-ups are counted per
    address; opening a link writes nothing."""
    key = address_key("link")
    if Throttle.count_for(key, FAILED_LOOKUP_WINDOW) >= MAX_FAILED_LOOKUPS:
        SecurityEvent.record("link-throttled")
        abort(link_error(429, languages, purpose))
    link = AccessLink.find(purpose, token)
    if link is None:
        Throttle.hit(key, FAILED_LOOKUP_WINDOW)
        SecurityEvent.record("link-unknown")
        abort(link_error(404, languages, purpose))
    if not link.is_usable:
        abort(link_error(410, languages, purpose))
    return link


def csrf_is_valid() -> bool:
    """Whether a link page's POST carries the CSRF token of its session."""
    try:
        validate_csrf(request.form.get("csrf_token") or request.headers.get("X-CSRFToken"))
    except ValidationError:
        return False
    g.csrf_valid = True  # as CSRFProtect marks it: a FlaskForm on the page need not check again
    return True


def link_error(code: int, languages: dict[str, str], purpose: str = "client") -> Response:
    """A plain page in the visitor's language: 404 unknown, 410 expired or revoked, 429 too many
    tries, 400 an expired form."""
    language = set_language(languages)
    html = render_template(
        PROBLEM_PAGES.get(purpose, "portal/gone.html"),
        code=code,
        **page_context(language, languages),
    )
    return link_headers(make_response(html, code))


def link_headers(response: Response) -> Response:
    """A link page is private and must not travel: not cached, not indexed, no Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def public_url(endpoint: str, **values: Any) -> str:
    """The full address of a page for people outside the app (a link in a message, a QR code):
    PUBLIC_BASE_URL, else (in development) this request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL") or (
        request.host_url if has_request_context() else "http://localhost:5000"
    )
    if has_request_context():
        return base.rstrip("/") + url_for(endpoint, **values)
    with current_app.test_request_context():
        return base.rstrip("/") + url_for(endpoint, **values)


# -- the page's language -----------------------------------------------------------------------


def set_language(allowed: dict[str, str], preferred: str | None = None) -> str:
    """The page language: ?lang= when allowed, else the person's own, else the browser's, else
    Dutch. Flask-Babel's locale selector reads g.page_language."""
    wanted = request.args.get("lang", "")
    if wanted in allowed:
        language = wanted
    elif preferred in allowed:
        language = preferred or "nl"
    else:
        language = request.accept_languages.best_match(list(allowed)) or "nl"
    g.page_language = language
    refresh()
    return language


def page_context(language: str, languages: dict[str, str]) -> dict[str, Any]:
    """What the page template needs to show its language and the choice of others."""
    return {
        "page_lang": language,
        "page_dir": "rtl" if language in RTL_LANGUAGES else "ltr",
        "languages": languages,
    }


# -- tokens never reach a log ------------------------------------------------------------------


class TokenFilter(logging.Filter):
    """Masks the token of /p/, /a/ and /r/ links, and anything that looks like a token, in log
    lines and in the tracebacks of errors (werkzeug's and gunicorn's request logs print the
    path, and Flask logs "Exception on <path>" with the traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: mask_tokens(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        if record.exc_info and record.exc_info[0] is not None:
            # The formatted traceback, masked, replaces the live one (which holds the URL in
            # its exception messages and frames); formatters print exc_text as it is.
            record.exc_text = mask_tokens(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_tokens(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_tokens(record.stack_info)
        return True


def mask_tokens(text: str) -> str:
    return TOKEN_ALONE.sub("…", TOKEN_IN_PATH.sub(r"\1…", text))


def install_log_filter(*names: str) -> None:
    """Mask tokens in what these loggers (and the usual ones) write."""
    for name in (*LOGGERS, *names):
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenFilter) for f in logger.filters):
            logger.addFilter(TokenFilter())


install_log_filter()
