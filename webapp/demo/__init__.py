"""seed-demo: a realistic Antwerp team with clients, cases, offer and referrals."""

from __future__ import annotations

import random

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from webapp.models import Client, User, database

DEMO_PASSWORD = "vrijbaan-demo-2026"  # noqa: S105 (printed for trying the demo, never for real use)


def base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")


@click.command("seed-demo")
@click.option("--seed", default=2026, show_default=True, help="Random seed, for repeatable data.")
@with_appcontext
def seed_demo_command(seed: int) -> None:
    """Fill an empty database with demo data and print the demo logins and links."""
    # Only when seeding: the demo data stays out of an app server, and the seed modules
    # import DEMO_PASSWORD and base_url from here.
    from webapp.demo import (  # noqa: PLC0415
        cases,
        corrections,
        messages,
        offer,
        privacy,
        referrals,
        team,
        walkin,
    )

    rng = random.Random(seed)
    with database.connection_context():
        if User.select().exists() or Client.select().exists():
            raise click.ClickException(
                "Deze databank bevat al gegevens; demodata komt alleen in een lege databank."
            )
        lines: list[str] = []
        with database.atomic():
            users = team.seed(rng)
            # A random source of their own: the rest of the demo stays as it was.
            security_rng = random.Random(f"security-{seed}")
            secret = team.seed_second_factor(security_rng, users)
            team.seed_security_log(security_rng, users)
            case_list = cases.seed(rng, users)
            corrections.seed(rng, users, case_list)
            lines += offer.seed(rng, users, case_list)
            lines += referrals.seed(rng, users, case_list)
            messages.seed(random.Random(f"messages-{seed}"), users, case_list)
            privacy.seed(random.Random(f"privacy-{seed}"), case_list)
            lines += walkin.seed()
    click.echo("Demodata aangemaakt. Aanmelden op " + base_url() + "/login met:")
    for user in users:
        click.echo(f"  {user.role:<12} {user.email:<36} wachtwoord: {DEMO_PASSWORD}")
    coordinator = next(u for u in users if u.role == "coordinator")
    click.echo(
        f"De coördinator ({coordinator.email}) heeft een tweede stap: voeg de sleutel {secret}\n"
        "  toe aan een authenticator-app, of maak een code zonder telefoon met\n"
        f"  python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\""
    )
    for line in lines:
        click.echo(line)


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
