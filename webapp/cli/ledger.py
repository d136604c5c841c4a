"""`flask ledger verify`, `flask ledger balances [--merchant …]` and `flask merchants set-fees`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.cli.accounts import merchants
from webapp.domain.errors import DomainError
from webapp.domain.ledger import LABELS, AccountKind
from webapp.domain.money import Money
from webapp.services import accounts, balances, funds, verification
from webapp.services.audit import Actor

ledger = AppGroup("ledger", help="The double-entry ledger: prove it balances, show balances.")


@ledger.command("verify")
def verify() -> None:
    """Check every ledger invariant; exit 1 and name each violation if one does not hold."""
    report = verification.verify()
    click.echo(report.text())
    if not report.ok:
        raise SystemExit(1)


def _row(label: str, minor: int, currency: str) -> str:
    return f"  {label:<32} {Money(minor, currency).format():>20}"


@ledger.command("balances")
@click.option("--merchant", "merchant_ref", default=None, help="Merchant id or exact name: its sellers' wallets.")
def show_balances(merchant_ref: str | None) -> None:
    """The platform's balances per currency, or one merchant's seller wallets."""
    if merchant_ref:
        try:
            merchant = accounts.find_merchant(merchant_ref)
        except DomainError as exc:
            raise click.ClickException(exc.message)
        found = balances.wallets(s.id for s in merchant.seller_accounts)
        click.echo(f"Wallets of {merchant.name} ({merchant.id})")
        for seller in merchant.seller_accounts:
            click.echo(f"{seller.display_name} ({seller.id})")
            for wallet in found.get(seller.id, []):
                click.echo(_row(f"{wallet.currency} pending", wallet.pending, wallet.currency))
                click.echo(_row(f"{wallet.currency} available", wallet.available, wallet.currency))
            if seller.id not in found:
                click.echo("  no money movements yet")
        return
    platform = balances.platform_accounts()
    report = verification.verify()
    if not platform:
        click.echo("The ledger is empty.")
    for currency, rows in platform.items():
        click.echo(currency)
        for account in rows:
            click.echo(_row(LABELS[AccountKind(account.kind)], account.balance, currency))
        click.echo(_row("Seller wallets (all)", report.platform.get(currency, {}).get("wallets", 0), currency))


@merchants.command("set-fees")
@click.option("--merchant", "merchant_ref", required=True, help="Merchant id or exact name.")
@click.option("--bps", type=int, default=None, help="Basis points of each payment order (250 = 2.5%).")
@click.option("--fixed", "fixed_minor", type=int, default=None, help="Fixed fee per payment order, in minor units.")
@click.option("--default", "use_default", is_flag=True, help="Return to the platform's default fee.")
def set_fees(merchant_ref: str, bps: int | None, fixed_minor: int | None, use_default: bool) -> None:
    """Set a merchant's platform fee (applies to payments captured from now on)."""
    if use_default == (bps is not None or fixed_minor is not None):
        raise click.UsageError("Give --bps and/or --fixed, or --default.")
    try:
        merchant = accounts.find_merchant(merchant_ref)
        if not use_default:
            current = funds.fee_schedule(merchant)
            bps = current.bps if bps is None else bps
            fixed_minor = current.fixed_minor if fixed_minor is None else fixed_minor
        schedule = funds.set_fee_schedule(merchant, bps, fixed_minor, actor=Actor.cli())
    except DomainError as exc:
        raise click.ClickException(exc.message)
    source = "the platform default" if use_default else "its own"
    click.echo(f"{merchant.name} now pays {schedule.describe()} per payment order ({source}).")
