"""seed-demo: a realistic Antwerp team with clients, cases and visits, for trying the app."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Fill an empty database with demo data and print the demo logins."""
    click.echo("todo")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
