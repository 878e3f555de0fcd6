"""Response headers that hold on every page (CSP, referrer policy, caching of personal pages),
the key under which a visitor's address is throttled, and the command that keeps the security
log to its 12 months."""

from __future__ import annotations

import hashlib

import click
from flask import Flask, Response, request
from flask.cli import with_appcontext

from webapp.models import SecurityEvent, database

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


def address_key(kind: str) -> str:
    """The throttle key of this visitor's address for one kind of attempt ("login", "link"):
    hashed, so the throttle table holds no IP address."""
    return f"{kind}-ip:" + hashlib.sha256((request.remote_addr or "").encode()).hexdigest()[:40]


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        # Every page may hold personal data: never kept by the browser or a proxy.
        headers.setdefault("Cache-Control", "no-store")
    return response


@click.command("prune-security-log")
@with_appcontext
def prune_security_log_command() -> None:
    """Delete security log rows older than 12 months (run it daily, e.g. from cron)."""
    with database.connection_context():
        removed = SecurityEvent.prune()
    click.echo(f"{removed} regels uit het beveiligingslogboek gewist (ouder dan 12 maanden).")


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.cli.add_command(prune_security_log_command)
