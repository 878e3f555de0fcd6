"""The Flask extensions every area shares, made here once and bound to the app by create_app:
CSRF protection, translations (Flask-Babel) and `request.htmx` (htmx-flask).

Areas import them from here, never from `webapp` itself, so no module imports back up into the
application factory."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()

UI_LANGUAGES = ("nl", "en")


def init_app(app: Flask) -> None:
    """Bind every extension to the app."""
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=page_locale)


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
