"""`flask --app wsgi demo seed`: the demo data set."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.services import demo as demo_service

demo = AppGroup("demo", help="Demo data.")


@demo.command("seed")
def seed() -> None:
    """Create the demo admin, marketplace, sellers and API key (idempotent); write instance/demo.env."""
    path = Path(current_app.instance_path) / "demo.env"
    credentials = demo_service.seed(path, current_app.config["PUBLIC_BASE_URL"])
    click.echo(f"Demo ready; logins in {path}")
    click.echo(f"  admin:    {credentials.admin_email}")
    click.echo(f"  merchant: {credentials.merchant_email}")
