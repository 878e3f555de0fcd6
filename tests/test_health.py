"""Running in production: /healthz for the load balancer, JSON log lines, and the systemd units
the project ships (checked by systemd itself where it is installed)."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import POSTGRES_URL
from webapp import create_app
from webapp.health import JsonFormatter

TOKEN = "Zq3" + "x" * 37 + "Kp9"


def test_health_check_answers_without_login_or_personal_data(client: FlaskClient) -> None:
    answer = client.get("/healthz")

    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == "ok\n"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers


def test_health_check_answers_503_when_the_database_does_not(tmp_path: Path) -> None:
    unreachable = (
        POSTGRES_URL.rsplit("@", 1)[0] + "@127.0.0.1:1/vrijbaan"
        if POSTGRES_URL
        else f"sqlite:///{tmp_path}/no/such/folder/vrijbaan.sqlite"
    )
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": unreachable})

    answer = app.test_client().get("/healthz")

    assert answer.status_code == 503
    assert answer.get_data(as_text=True) == "database unavailable\n"


def test_a_json_log_line_masks_tokens_and_carries_the_request(app: Flask) -> None:
    with app.test_request_context(f"/p/{TOKEN}", headers={"X-Request-ID": "ab" * 16}):
        from webapp.health import assign_request_id

        assign_request_id()
        try:
            raise ValueError(f"no link for /p/{TOKEN}")
        except ValueError:
            record = logging.LogRecord(
                "webapp",
                logging.ERROR,
                __file__,
                1,
                "Exception on %s",
                (f"/p/{TOKEN}",),
                sys.exc_info(),
            )
        line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "ab" * 16
    assert entry["route"] == "portal.show"
    assert entry["message"] == "Exception on /p/…"
    assert entry["error"]["type"] == "ValueError"
    assert any("test_a_json_log_line" in frame for frame in entry["error"]["frames"])
    assert "no link for" not in line  # the exception's own words stay out
    assert TOKEN not in line


def test_a_request_id_from_outside_that_is_not_a_proxys_is_replaced(app: Flask) -> None:
    from flask import g

    from webapp.health import assign_request_id

    with app.test_request_context("/healthz", headers={"X-Request-ID": "Amina Bouzid"}):
        assign_request_id()
        assert g.request_id != "Amina Bouzid"
        assert len(g.request_id) == 32


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_the_shipped_systemd_units_pass_systemd_analyze(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "env").write_text("PUBLIC_BASE_URL=https://vrijbaan.example.be\n")
    units = [
        f"vrijbaan{name}.{kind}"
        for name in ("", "-backup", "-messages", "-retention")
        for kind in ("service", "timer")
        if name or kind == "service"
    ]
    for name in units:
        printed = app.test_cli_runner().invoke(
            args=[
                "deploy-config",
                name,
                "--public-base-url",
                "https://vrijbaan.example.be",
                "--env-file",
                str(tmp_path / "env"),
                "--backups",
                str(tmp_path),
            ]
        )
        assert printed.exit_code == 0, printed.output
        (tmp_path / name).write_text(printed.output)

    verified = subprocess.run(
        ["systemd-analyze", "verify", *units],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == ""
    assert f"ExecStart={sys.prefix}/bin/gunicorn " in (tmp_path / units[0]).read_text()
