"""Accounts from the command line: admins, merchants, seller accounts, API keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.domain.errors import DomainError
from webapp.domain.sellers import NewSeller
from webapp.services import accounts, api_keys
from webapp.services import sellers as seller_service
from webapp.services.audit import Actor


def _fail(exc: DomainError) -> None:
    raise click.ClickException(exc.message)


users = AppGroup("users", help="Sign-in accounts.")
merchants = AppGroup("merchants", help="Merchants.")
sellers = AppGroup("sellers", help="Seller accounts of a merchant.")
keys = AppGroup("api-keys", help="Merchant API keys.")

password_option = click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                               help="At least 12 characters; prompted for when omitted.")


@users.command("create-admin")
@click.option("--email", required=True)
@password_option
def create_admin(email: str, password: str) -> None:
    """Create a platform admin."""
    try:
        user = accounts.create_admin(email, password)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Admin {user.email} created ({user.id}).")


@merchants.command("create")
@click.option("--name", required=True, help="The merchant's business name.")
@click.option("--email", required=True, help="Email of the merchant's first user.")
@password_option
def create_merchant(name: str, email: str, password: str) -> None:
    """Create a merchant with its first user."""
    try:
        merchant = accounts.create_merchant(name, email, password, actor=Actor.cli())
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Merchant {merchant.name} created ({merchant.id}); user {email} can sign in.")


@sellers.command("add")
@click.option("--merchant", "merchant_ref", required=True, help="Merchant id or exact name.")
@click.option("--name", required=True, help="Display name of the seller.")
@click.option("--iban", required=True)
@click.option("--currency", default="USD", show_default=True)
def add_seller(merchant_ref: str, name: str, iban: str, currency: str) -> None:
    """Add a seller account to a merchant."""
    try:
        seller = seller_service.create(accounts.find_merchant(merchant_ref), NewSeller.basic(name, iban, currency))
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Seller account {seller.id} ({seller.display_name}, {seller.currency}) added.")


@keys.command("create")
@click.option("--merchant", "merchant_ref", required=True, help="Merchant id or exact name.")
@click.option("--name", default="CLI key", show_default=True)
def create_key(merchant_ref: str, name: str) -> None:
    """Create an API key and print it once."""
    try:
        new_key = api_keys.create(accounts.find_merchant(merchant_ref), name, actor=Actor.cli())
    except DomainError as exc:
        _fail(exc)
    click.echo(new_key.secret)
    click.echo(f"(key {new_key.record.id}; shown once, store it now)", err=True)


COMMANDS = (users, merchants, sellers, keys)
