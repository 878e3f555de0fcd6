"""Running in production: /healthz for the load balancer, and logs a log stack can read (one
JSON object per line with LOG_FORMAT=json: a request id and the route, never a path, a token,
a name or free text that someone typed)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Blueprint, Flask, Response, g, has_request_context, request
from flask.logging import default_handler
from peewee import InterfaceError, OperationalError

from webapp.db import database
from webapp.links import TokenFilter

bp = Blueprint("health", __name__)

# nginx's $request_id (32 hex digits) or another proxy's id of that shape; anything else is
# replaced by one of our own, so that no visitor can write into the logs.
REQUEST_ID = re.compile(r"[0-9a-f]{16,64}")
# The fields of a log record that are facts about the program, not about a person.
FIELDS = ("request_id", "route", "method", "status", "duration_ms")
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """200 while the database answers, 503 when it does not; no login, no personal data."""
    database.execute_sql("SELECT 1").fetchone()
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


def _database_down(error: Exception) -> tuple[str, int, dict[str, str]]:
    # The database cannot be reached (its connection is opened before any view runs).
    # Only /healthz answers it as such; any other page fails as it always did.
    if request.endpoint != "health.healthz":
        raise error
    return "database unavailable\n", 503, {"Content-Type": "text/plain; charset=utf-8"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, the message with every token masked (the
    same filter as the plain logs), and the request's id and route when there is a request."""

    masking = TokenFilter()

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_info[0] is not None:
            error_text = self.formatException(record.exc_info)
        else:
            error_text = record.exc_text or ""
        self.masking.filter(record)
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if has_request_context() and "request_id" not in entry:
            entry["request_id"] = g.get("request_id")
            entry["route"] = request.endpoint
        if error_text:
            entry["error"] = error_summary(error_text)
        return json.dumps(entry, ensure_ascii=False)


def error_summary(traceback_text: str) -> dict[str, object]:
    """Where an error happened and of what kind, from a formatted traceback; without the
    exception's message or the source lines, which can quote what someone typed (a database
    error names the value that broke a constraint)."""
    lines = traceback_text.splitlines()
    frames = [line.strip() for line in lines if line.startswith('  File "')]
    last = lines[-1] if lines else ""
    return {"type": last.split(":", 1)[0].strip(), "frames": frames}


def assign_request_id() -> None:
    """The id that ties the log lines of one request together (nginx's, or a new one)."""
    header = request.headers.get("X-Request-ID", "")
    g.request_id = header if REQUEST_ID.fullmatch(header) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _log_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    logging.getLogger("webapp.requests").info(
        "request",
        extra={
            "request_id": g.get("request_id"),
            "route": request.endpoint,
            "method": request.method,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 1),
        },
    )
    return response


def json_logging(app: Flask) -> None:
    """Every line the app (and gunicorn, if its own log configuration did not do it already)
    writes, as JSON on stderr; one line per request."""
    formatter = JsonFormatter()
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)
    for name in GUNICORN_LOGGERS:
        for existing in logging.getLogger(name).handlers:
            existing.setFormatter(formatter)
    # First of all hooks: the id must exist before the database connection is opened.
    app.before_request_funcs.setdefault(None, []).insert(0, assign_request_id)
    app.after_request(_log_request)


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(InterfaceError, _database_down)
    if os.environ.get("LOG_FORMAT", app.config.get("LOG_FORMAT", "")) == "json":
        json_logging(app)
