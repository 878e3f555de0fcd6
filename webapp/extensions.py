"""The Flask extensions every area shares, made here once and bound to the app by create_app:
CSRF protection, translations (Flask-Babel) and `request.htmx` (htmx-flask).

Areas import them from here, never from `webapp` itself, so no module imports back up into the
application factory."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from flask import Flask, g, request
from flask_babel import Babel, Domain
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx


class _KeptCatalogueDomain(Domain):
    """Flask-Babel's message domain, which keeps the request's catalogue beside the locale it
    was found for, in Flask-Babel's own per-request namespace. Flask-Babel looks it up anew for
    every string (the locale, its name, the cache); the case page translates a few hundred and
    that lookup was a sixth of its time (issue 15). `force_locale` and `refresh()` replace or
    remove the locale object, so the catalogue is found again when the language changes."""

    def get_translations(self) -> Any:
        try:
            state = g._flask_babel
            kept_for, kept = state.kept_translations
            if kept_for is state.babel_locale:
                return kept
        except (AttributeError, RuntimeError):  # nothing kept yet; outside the app
            pass
        translations = super().get_translations()
        try:
            state = g._flask_babel
            state.kept_translations = (state.babel_locale, translations)
        except (AttributeError, RuntimeError):
            pass
        return translations


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _KeptCatalogueDomain(domain=self.domain)


csrf = CSRFProtect()
babel = _Babel()
htmx = Htmx()

UI_LANGUAGES = ("nl", "en")


def init_app(app: Flask) -> None:
    """Bind every extension to the app."""
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=page_locale)

    # The templates ask the domain straight away: Flask-Babel's callables first look up the
    # request's domain, which is always this one.
    def catalogue() -> Any:
        return babel.domain_instance.get_translations()

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )


def page_locale() -> str:
    """The page's own language (client and provider pages), else the one the team member chose
    under "Mijn account", else the browser's, else Dutch."""
    page_language = getattr(g, "page_language", None)
    if page_language:
        return page_language
    chosen = getattr(current_user, "ui_language", "")
    if chosen in UI_LANGUAGES:
        return chosen
    return request.accept_languages.best_match(UI_LANGUAGES) or "nl"
