"""JSON shapes of seller accounts, their balances and payouts (documented in openapi.json).

A payout's `items` are its statement: the balance changes it settles, summing to its amount. A payout that
failed or was canceled keeps its items, each marked `released: true`: its money went back to the wallet and
those same changes appear again, unreleased, in the seller's next payout. So a statement always sums to its
payout's amount, and a merchant can follow an order from a failed payout to the one that paid it.
"""

from __future__ import annotations

from datetime import datetime

from webapp.domain.money import Money
from webapp.models import Payout, SellerAccount
from webapp.services import sellers
from webapp.services.payout_reads import SellerBalance, StatementLine, paused, statement


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def seller_status(seller: SellerAccount) -> str:
    """The merchant's `disabled` (no new payments) wins; otherwise the account's state at the PSP."""
    return "disabled" if seller.status == "disabled" else seller.account_state


def seller_account(seller: SellerAccount, balances: list[SellerBalance]) -> dict:
    """A seller account; `balances` (at least its own currency's available) decide `payouts_paused_reason`."""
    reason = paused(seller, balances)
    return {
        "id": seller.id,
        "object": "seller_account",
        "display_name": seller.display_name,
        "email": seller.email,
        "country": seller.country,
        "currency": seller.currency,
        "status": seller_status(seller),
        "payouts_enabled": seller.payouts_enabled,
        "payouts_paused_reason": reason.value if reason is not None else None,
        "requirements_due": [name for name in seller.requirements_due.split(",") if name],
        "bank_account": {"last4": seller.bank_last4, "status": seller.bank_account_status},
        "payout_schedule": sellers.schedule_of(seller).as_json(),
        "minimum_payout_amount": Money(seller.minimum_payout_minor, seller.currency).decimal_string,
        "created": _unix(seller.created_at),
    }


def own_available(seller: SellerAccount, available: int) -> list[SellerBalance]:
    """Just enough balance for `seller_account` when a page of sellers had their balances read at once."""
    return [SellerBalance(seller.currency, 0, available, 0)]


def seller_balance(seller: SellerAccount, balances: list[SellerBalance]) -> dict:
    """Per currency, like Stripe's balance: a negative available (refunds after a payout) stays negative."""

    def side(name: str) -> list[dict]:
        return [{"amount": Money(getattr(b, name), b.currency).decimal_string, "currency": b.currency}
                for b in balances]

    return {"object": "seller_balance", "seller_account": seller.id, "pending": side("pending"),
            "available": side("available"), "in_transit": side("in_transit")}


def payout_summary(payout: Payout) -> dict:
    """A payout without its statement (the list's shape)."""
    return {
        "id": payout.id,
        "object": "payout",
        "seller_account": payout.seller_account_id,
        "amount": Money(payout.amount, payout.currency).decimal_string,
        "currency": payout.currency,
        "status": payout.status,
        "arrival_date": payout.arrival_date.isoformat() if payout.arrival_date else None,
        "failure_code": payout.failure_code,
        "failure_message": payout.failure_message,
        "source": payout.source,
        "created": _unix(payout.created_at),
    }


def _item(line: StatementLine, currency: str) -> dict:
    return {
        "type": line.kind,
        "amount": Money(line.amount, currency).decimal_string,
        "payment_order_id": line.order_reference,
        "checkout_id": line.checkout_id,
        "refund": line.refund_id,
        "description": line.description,
        "released": line.released,
    }


def payout(found: Payout) -> dict:
    """A payout with its statement (`items`), oldest change first."""
    return {**payout_summary(found), "items": [_item(line, found.currency) for line in statement(found.id)]}
