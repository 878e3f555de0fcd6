"""Error pages in plain Dutch, as whole pages or as htmx fragments; and the guards that turn
impossible input (a file for a text field, a number or date beyond what can be stored) into a
400 with that page instead of a crash."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from peewee import DataError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from webapp.forms import MAX_INT
from webapp.htmx import wants_fragment
from webapp.models import SecurityEvent


def _render(error: HTTPException) -> tuple[str, int]:
    if request_ctx.url_adapter is None:
        # The Host header is not one of ours (TRUSTED_HOSTS): no page can link anywhere.
        return _("Dit adres hoort niet bij Vrijbaan."), error.code or 400
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    # abort(409, description=...) says why in Dutch; werkzeug's own English text is not shown.
    reason = error.description if error.description != type(error).description else None
    context = {"error": error, "code": error.code, "reason": reason}
    return render_template(template, **context), error.code or 500


def refused_csrf(error: CSRFError) -> tuple[str, int]:
    """A state-changing request without its session's token: refused, and logged."""
    SecurityEvent.record("csrf", _user_id())
    error.description = "csrf"
    return _render(error)


def _user_id() -> int | None:
    return current_user.id if current_user and current_user.is_authenticated else None


def _impossible_value(error: Exception) -> tuple[str, int]:
    # A number beyond what the database stores (SQLite: 2**63, PostgreSQL: its column type), a
    # date beyond what a time zone can convert (year 1 or 9999): the input, not the app.
    return _render(BadRequest("input"))


def _no_files() -> None:
    """No form of the app takes a file: one sent in place of a text field is refused here,
    before a validator meets an object it cannot measure."""
    if request.method != "GET" and request.files:
        abort(400, description="input")


class IdConverter(IntegerConverter):
    """<int:…> in a URL: an id, so at most PostgreSQL's integer; a bigger one finds nothing
    (404) instead of overflowing the database driver."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002  (werkzeug's)
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before the blueprints add their URLs
    app.before_request(_no_files)
    app.register_error_handler(CSRFError, refused_csrf)
    app.register_error_handler(HTTPException, _render)
    app.register_error_handler(OverflowError, _impossible_value)
    app.register_error_handler(DataError, _impossible_value)
