"""`flask payouts run [--date YYYY-MM-DD] [--seller ID]` and `flask payouts pay-now --seller ID`."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.extensions import db
from webapp.models import SellerAccount
from webapp.services import payouts as payout_service
from webapp.services.audit import Actor

payouts = AppGroup("payouts", help="Pay sellers: the payout run, or one seller now.")


@payouts.command("run")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The UTC day whose schedules to run (default: today).")
@click.option("--seller", "seller_id", default=None, help="Only this seller account.")
def run(day, seller_id: str | None) -> None:
    """Create the payouts due on a day: one per seller and schedule period (safe to run again)."""
    when: date = day.date() if day else date.today()
    result = payout_service.run(when, seller_id=seller_id, source="cli", actor=Actor.cli())
    click.echo(f"{when}: {result.due} seller(s) due, {len(result.created)} payout(s) created")
    for reason, count in sorted(result.skipped.items()):
        click.echo(f"  skipped {count}: {reason}")


@payouts.command("pay-now")
@click.option("--seller", "seller_id", required=True, help="Seller account id.")
def pay_now(seller_id: str) -> None:
    """Pay out a seller's available balance now, whatever its schedule."""
    seller = db.session.get(SellerAccount, seller_id)
    if seller is None:
        raise click.ClickException(f"No seller account {seller_id!r}.")
    try:
        payout = payout_service.pay_now(seller.merchant_id, seller.id, source="cli", actor=Actor.cli())
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}")
    click.echo(f"Payout {payout.id} of {Money(payout.amount, payout.currency)} created for {seller.display_name}.")
