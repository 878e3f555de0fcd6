"""Error pages in plain Dutch, as whole pages or as htmx fragments."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.htmx import wants_fragment


def _render(error: HTTPException) -> tuple[str, int]:
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    # abort(409, description=...) says why in Dutch; werkzeug's own English text is not shown.
    reason = error.description if error.description != type(error).description else None
    context = {"error": error, "code": error.code, "reason": reason}
    return render_template(template, **context), error.code or 500


def _csrf(error: CSRFError) -> tuple[str, int]:
    error.description = "csrf"
    return _render(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _render)
