"""Behind a real reverse proxy, as the README's production section sets it up: Debian's nginx
with the site configuration the project ships (`deploy-config nginx`) and a self-signed
certificate, in front of gunicorn with LOG_FORMAT=json. Everything on 127.0.0.1, on free ports,
nginx as an unprivileged user.

Where nginx (or openssl) is missing these tests skip, except in CI (VRIJBAAN_REQUIRE_BROWSER=1
or CI=true), where that is a failure.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import PASSWORD, BuiltSchema, make_user
from webapp import create_app
from webapp.db import database

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.path.exists(p)), None
)
OPENSSL = shutil.which("openssl")
REQUIRED = os.environ.get("VRIJBAAN_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"
# A token of the shape the app mints (secrets.token_urlsafe(32)), that opens nothing.
UNKNOWN_TOKEN = "Zq3" + "x" * 37 + "Kp9"


def _needed(tool: str | None, package: str) -> None:
    if tool:
        return
    message = f"{package} is not installed (apt-get install -y {package})"
    if REQUIRED:
        pytest.fail(f"{message}; CI needs it for the reverse-proxy tests")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: Message
    body: str

    def cookies(self) -> dict[str, str]:
        """Each cookie set, by name, with its attributes as the browser receives them."""
        return {line.split("=", 1)[0]: line for line in (self.headers.get_all("Set-Cookie") or [])}


@dataclass
class Stack:
    http_port: int
    https_port: int
    tls: ssl.SSLContext
    app_log: Path
    proxy_log: Path

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        client: str = "127.0.0.2",
        headers: dict[str, str] | None = None,
        body: str | None = None,
        plain: bool = False,
    ) -> Answer:
        """One request as a visitor at the address CLIENT (the whole of 127.0.0.0/8 is this
        machine, so each address is a different visitor for nginx)."""
        connection: http.client.HTTPConnection
        if plain:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.http_port, timeout=30, source_address=(client, 0)
            )
        else:
            connection = http.client.HTTPSConnection(
                "127.0.0.1",
                self.https_port,
                timeout=30,
                context=self.tls,
                source_address=(client, 0),
            )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read().decode())
        finally:
            connection.close()


def wait_until_answering(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until PORT accepts connections, or fail with the log if the process ends first."""
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        try:
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        break
    raise AssertionError(f"nothing answers on {port}:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, built_schema: BuiltSchema) -> Iterator[Stack]:
    """gunicorn and nginx running as the README says, on a database with one mediator."""
    _needed(NGINX, "nginx-light")
    _needed(OPENSSL, "openssl")
    home = tmp_path_factory.mktemp("production")
    url = built_schema.url(home)
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    public = f"https://127.0.0.1:{https_port}"

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    make_user("sara.elamrani@vrijbaan.test", "Sara El Amrani")
    nginx_site = app.test_cli_runner().invoke(
        args=[
            "deploy-config",
            "nginx",
            "--public-base-url",
            public,
            "--upstream",
            f"127.0.0.1:{app_port}",
            "--http-listen",
            f"127.0.0.1:{http_port}",
            "--https-listen",
            f"127.0.0.1:{https_port}",
            "--certificate",
            "CERTIFICATE",
            "--certificate-key",
            "CERTIFICATE_KEY",
            "--access-log",
            "ACCESS_LOG",
            "--checkout",
            "CHECKOUT",
        ]
    )
    assert nginx_site.exit_code == 0, nginx_site.output
    database.close()

    # gunicorn as in the README and vrijbaan.service (two workers: the throttles they share
    # live in the database).
    app_log = home / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "a production secret for this test only",
        "PUBLIC_BASE_URL": public,
        "VRIJBAAN_PROXIES": "1",
        "LOG_FORMAT": "json",
        "VRIJBAAN_INSTANCE": str(home / "instance"),
    }
    env.pop("FLASK_RUN_FROM_CLI", None)
    with app_log.open("wb") as log:
        gunicorn = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--workers", "2"),
                *("--bind", f"127.0.0.1:{app_port}", "--no-control-socket"),
                *("--log-config-json", "webapp/deploy/gunicorn-logging.json", "wsgi:app"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    # nginx in a folder of its own, as a user without privileges when the tests run as root
    # (the static files copied there, as a release installs them, so that user can read them).
    prefix = Path(tempfile.mkdtemp(prefix="vrijbaan-nginx-"))
    prefix.chmod(0o755)
    shutil.copytree(ROOT / "static", prefix / "static")
    subprocess.run(
        [
            *(OPENSSL or "openssl", "req", "-x509", "-newkey", "ec"),
            *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(prefix / "key.pem"), "-out", str(prefix / "cert.pem")),
        ],
        check=True,
        capture_output=True,
    )
    site = (
        nginx_site.output.replace("CERTIFICATE_KEY", str(prefix / "key.pem"))
        .replace("CERTIFICATE", str(prefix / "cert.pem"))
        .replace("ACCESS_LOG", str(prefix / "access.log"))
        .replace("CHECKOUT", str(prefix))
    )
    (prefix / "vrijbaan.conf").write_text(site)
    # What Debian's /etc/nginx/nginx.conf gives a site, with this folder for its files.
    (prefix / "nginx.conf").write_text(
        f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/vrijbaan.conf;
}}
"""
    )
    for name in ("error.log", "access.log"):
        (prefix / name).touch()
    user: dict[str, int] = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        user = {"user": nobody.pw_uid, "group": nobody.pw_gid}
        for path in [prefix, *prefix.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    nginx = subprocess.Popen(
        [
            NGINX or "nginx",
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-e",
            str(prefix / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **user,  # type: ignore[arg-type]
    )
    try:
        wait_until_answering(gunicorn, app_port, app_log)
        wait_until_answering(nginx, https_port, prefix / "error.log")
        tls = ssl.create_default_context(cafile=str(prefix / "cert.pem"))
        yield Stack(http_port, https_port, tls, app_log, prefix / "access.log")
    finally:
        stop(nginx)
        stop(gunicorn)
        shutil.rmtree(prefix, ignore_errors=True)


def login_form(stack: Stack, client: str) -> tuple[str, str]:
    """The session cookie and CSRF token a browser gets with the login page."""
    page = stack.request("GET", "/login", client=client)
    assert page.status == 200
    session = page.cookies()["session"].split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.body)
    assert token, page.body
    return session, token.group(1)


def test_plain_http_is_only_a_redirect_to_https(stack: Stack) -> None:
    answer = stack.request("GET", "/cases/?q=amina", plain=True)

    assert answer.status == 301
    assert answer.headers["Location"] == f"{stack.origin}/cases/?q=amina"
    assert not answer.headers.get_all("Set-Cookie")


def test_pages_over_https_carry_hsts_and_secure_cookies(stack: Stack) -> None:
    answer = stack.request("GET", "/login")

    assert answer.status == 200
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = answer.cookies()["session"]
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_login_passes_the_strict_referer_check_only_from_this_site(stack: Stack) -> None:
    session, token = login_form(stack, "127.0.0.4")
    form = urlencode(
        {"csrf_token": token, "email": "sara.elamrani@vrijbaan.test", "password": PASSWORD}
    )
    headers = {"Cookie": session, "Content-Type": "application/x-www-form-urlencoded"}

    missing = stack.request("POST", "/login", client="127.0.0.4", headers=headers, body=form)
    foreign = stack.request(
        "POST",
        "/login",
        client="127.0.0.4",
        headers={**headers, "Referer": "https://elders.example/login"},
        body=form,
    )
    same = stack.request(
        "POST",
        "/login",
        client="127.0.0.4",
        headers={**headers, "Referer": f"{stack.origin}/login"},
        body=form,
    )

    assert missing.status == 400
    assert foreign.status == 400
    assert same.status == 303, same.body
    assert same.headers["Location"] == "/"
    assert "; Secure" in same.cookies()["session"]


def test_each_visitor_address_has_its_own_throttle(stack: Stack) -> None:
    tries = [stack.request("GET", f"/p/{UNKNOWN_TOKEN}", client="127.0.0.2") for _ in range(31)]
    # Claiming to be someone else does not help: nginx adds the address it saw.
    spoofed = stack.request(
        "GET", f"/p/{UNKNOWN_TOKEN}", client="127.0.0.2", headers={"X-Forwarded-For": "10.9.8.7"}
    )
    neighbour = stack.request("GET", f"/p/{UNKNOWN_TOKEN}", client="127.0.0.3")

    assert [t.status for t in tries] == [404] * 30 + [429]
    assert spoofed.status == 429
    assert neighbour.status == 404


def test_static_files_are_cached_and_the_service_worker_is_not(stack: Stack) -> None:
    css = stack.request("GET", "/static/app.css")
    worker = stack.request("GET", "/sw.js")

    assert css.status == 200
    assert css.body == (ROOT / "static" / "app.css").read_text()
    assert css.headers["Cache-Control"] == "max-age=86400"
    assert css.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert worker.status == 200
    assert "const RELEASE = {" in worker.body  # the app's, filled in, not the raw file
    assert worker.headers["Cache-Control"] == "no-cache"


def test_health_check_and_logs_one_json_object_per_line_without_tokens(stack: Stack) -> None:
    health = stack.request("GET", "/healthz")
    link = stack.request("GET", f"/p/{UNKNOWN_TOKEN}", client="127.0.0.5")

    assert health.status == 200
    assert health.body == "ok\n"
    request_id = health.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, passed on
    assert link.status == 404

    lines = stack.app_log.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [e for e in entries if e.get("request_id") == request_id]
    assert requests and requests[-1]["route"] == "health.healthz"
    assert requests[-1]["status"] == 200
    assert any(e.get("route") == "portal.show" and e.get("status") == 404 for e in entries)
    proxy = [json.loads(line) for line in stack.proxy_log.read_text().splitlines()]
    assert any(e["request_id"] == request_id for e in proxy)
    for log in (stack.app_log, stack.proxy_log):
        text = log.read_text()
        assert UNKNOWN_TOKEN not in text
        assert "Sara" not in text and "amina" not in text
