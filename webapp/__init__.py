"""Vrijbaan: the application factory, and so the map of the whole app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import db, extensions, migrations, models

HERE = Path(__file__).resolve().parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(HERE.parent / "templates"),
        static_folder=str(HERE.parent / "static"),
        instance_path=os.environ.get("VRIJBAAN_INSTANCE", str(HERE.parent / "instance")),
    )
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL") or None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Browsers accept Secure cookies on http://localhost too; set 1 only for a plain-http LAN.
        SESSION_COOKIE_SECURE=os.environ.get("VRIJBAAN_INSECURE_COOKIES") != "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_DEFAULT_TIMEZONE="Europe/Brussels",
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        PUBLIC_BASE_URL=os.environ.get("PUBLIC_BASE_URL", ""),
        # How many proxies (load balancers) in front of the app set X-Forwarded-For/-Proto;
        # 0: the headers are ignored (anyone could send them).
        PROXIES=int(os.environ.get("VRIJBAAN_PROXIES") or 0),
        TRUSTED_HOSTS=_split(os.environ.get("VRIJBAAN_TRUSTED_HOSTS", "")),
        TEMPLATES_AUTO_RELOAD=False,
    )
    if test_config:
        app.config.update(test_config)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _secret_key(app)
    _addresses(app)

    db.init_app(app)
    extensions.init_app(app)
    models.init_app(app)

    # Here, not at the top: importing any module of the package (webapp.db, the models, a
    # migration) runs this file, and should not load every view with it.
    from webapp import (  # noqa: PLC0415
        account,
        activities,
        admin,
        attendance,
        auth,
        backup,
        cases,
        demo,
        deploy,
        errors,
        health,
        links,
        messages,
        portal,
        privacy,
        pwa,
        referrals,
        reports,
        security,
        tasks,
        templating,
        thresholds,
        today,
        twofactor,
        visits,
        vraag,
    )

    links.init_app(app)
    auth.init_app(app)
    twofactor.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    demo.init_app(app)
    health.init_app(app)
    migrations.init_app(app)
    backup.init_app(app)
    deploy.init_app(app)
    messages.init_app(app)
    privacy.init_app(app)
    for blueprint in (
        auth.bp,
        twofactor.bp,
        account.bp,
        today.bp,
        cases.bp,
        visits.bp,
        tasks.bp,
        activities.bp,
        portal.bp,
        attendance.bp,
        referrals.bp,
        vraag.bp,
        thresholds.bp,
        reports.bp,
        admin.bp,
        messages.bp,
        privacy.bp,
        privacy.notice_bp,
        pwa.bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    return app


def _split(value: str) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] or None


LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1"]


def _addresses(app: Flask) -> None:
    """Where the app is reached, so that no request's Host header or X-Forwarded-For decides it:
    the links the app mints use PUBLIC_BASE_URL (required outside development and tests),
    other Host headers are refused (TRUSTED_HOSTS, by default PUBLIC_BASE_URL's host), and the
    client's address and scheme come from the configured number of proxies only (ProxyFix)."""
    public = app.config["PUBLIC_BASE_URL"]
    developing = app.debug or app.testing or os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    if not public and not developing:
        raise RuntimeError(
            "PUBLIC_BASE_URL is not set: set it to the address people reach Vrijbaan at "
            "(https://vrijbaan.example.be); the links sent to clients, providers and "
            "referrers are built from it."
        )
    if app.config["TRUSTED_HOSTS"] is None:
        hosts = [urlsplit(public).hostname] if public else []
        # Development and tests are also reached on this machine's own names.
        app.config["TRUSTED_HOSTS"] = hosts + (LOCAL_HOSTS if developing else [])
    proxies = int(app.config["PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def _secret_key(app: Flask) -> str:
    """SECRET_KEY from the environment, or one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
