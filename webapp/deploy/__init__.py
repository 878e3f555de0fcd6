"""The files a server needs around the app (nginx site, systemd units and timers), shipped with
it and printed by `flask --app wsgi deploy-config NAME` with this machine's paths filled in."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
FILES = {
    "nginx": "nginx.conf",
    "vrijbaan.service": "vrijbaan.service",
    "vrijbaan-backup.service": "vrijbaan-backup.service",
    "vrijbaan-backup.timer": "vrijbaan-backup.timer",
    "vrijbaan-messages.service": "vrijbaan-messages.service",
    "vrijbaan-messages.timer": "vrijbaan-messages.timer",
    "vrijbaan-retention.service": "vrijbaan-retention.service",
    "vrijbaan-retention.timer": "vrijbaan-retention.timer",
}


def render(name: str, values: dict[str, str]) -> str:
    """The shipped file NAME with its @PLACEHOLDERS@ filled in."""
    text = (HERE / FILES[name]).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key.upper()}@", value)
    return text


@click.command("deploy-config")
@click.argument("name", type=click.Choice(sorted(FILES)))
@click.option("--public-base-url", help="Default: PUBLIC_BASE_URL.")
@click.option("--upstream", default="127.0.0.1:8000", show_default=True, help="gunicorn's bind.")
@click.option("--http-listen", default="80", show_default=True)
@click.option("--https-listen", default="443", show_default=True)
@click.option("--certificate", help="Default: Let's Encrypt's fullchain.pem for the host.")
@click.option("--certificate-key", help="Default: Let's Encrypt's privkey.pem for the host.")
@click.option("--access-log", default="/var/log/nginx/vrijbaan.access.log", show_default=True)
@click.option("--checkout", default=str(CHECKOUT), show_default=True)
@click.option("--venv", default=sys.prefix, show_default=True)
@click.option("--user", default="vrijbaan", show_default=True)
@click.option("--env-file", default="/etc/vrijbaan/env", show_default=True)
@click.option("--backups", default="/var/backups/vrijbaan", show_default=True)
@with_appcontext
def deploy_config_command(name: str, **options: str | None) -> None:
    """Print the nginx site or a systemd unit or timer for this machine."""
    public = options["public_base_url"] or current_app.config.get("PUBLIC_BASE_URL") or ""
    host = urlsplit(public).hostname
    if not host:
        raise click.ClickException("Give --public-base-url https://… (or set PUBLIC_BASE_URL).")
    letsencrypt = f"/etc/letsencrypt/live/{host}"
    values = {k: v for k, v in options.items() if v is not None}
    values |= {
        "public_base_url": public.rstrip("/"),
        "server_name": host,
        "certificate": options["certificate"] or f"{letsencrypt}/fullchain.pem",
        "certificate_key": options["certificate_key"] or f"{letsencrypt}/privkey.pem",
        "static": str(Path(values["checkout"]) / "static"),
    }
    click.echo(render(name, values), nl=False)


def init_app(app: Flask) -> None:
    app.cli.add_command(deploy_config_command)
