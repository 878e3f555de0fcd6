"""Error pages in plain Dutch, as whole pages or as htmx fragments."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.htmx import wants_fragment


def _render(error: HTTPException) -> tuple[str, int]:
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, error=error, code=error.code), error.code or 500


def _csrf(error: CSRFError) -> tuple[str, int]:
    from webapp.models import SecurityEvent

    SecurityEvent.record("csrf", _user_id())
    error.description = "csrf"
    return _render(error)


def _user_id() -> int | None:
    from flask_login import current_user

    return current_user.id if current_user and current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _render)
