"""Helpers for ledger, wallet and refund tests: a paid checkout, draining the money jobs, reading wallets."""

from __future__ import annotations

from tests.support import payments as pay
from tests.support.sandbox import pay_session
from webapp.extensions import db
from webapp.models import LedgerAccount, PaymentEvent
from webapp.services import balances, funds, refunds

MONEY_TOPICS = ("inbox", funds.FEE_TOPIC, funds.AVAILABLE_TOPIC, refunds.CREATE_TOPIC, refunds.SYNC_TOPIC)


def paid_checkout(client, api: pay.Api, sellers: list, psp_url: str, amounts: tuple[str, ...] = ("3.15", "2.00"),
                  card_number: str = "4242424242424242", **body_extra) -> PaymentEvent:
    """A checkout paid by card through the sandbox and settled (SUCCESS), its PSP fee booked."""
    created = api.create(pay.body(sellers, amounts=amounts, **body_extra))
    assert created.status_code == 201, created.json
    pay.press_pay(client, created.json["id"])
    pay.drain("checkout.register")
    event = pay.event(created.json["id"])
    result = pay_session(psp_url, event.psp_session_id, card_number=card_number)
    assert result["status"] == "succeeded", result
    pay.settle(event.id, "SUCCESS")
    drain_money()
    return pay.event(event.id)


def drain_money(*topics: str) -> None:
    """Apply stored webhooks and run every money job once, in this process."""
    pay.drain(*(topics or MONEY_TOPICS))


def wallet(seller_id: str, currency: str = "USD") -> tuple[int, int]:
    """(pending, available) of a seller's wallet, in minor units."""
    db.session.rollback()
    found = {w.currency: w for w in balances.wallets([seller_id]).get(seller_id, [])}
    db.session.rollback()
    if currency not in found:
        return 0, 0
    return found[currency].pending, found[currency].available


def platform(kind: str, currency: str = "USD") -> int:
    db.session.rollback()
    account = db.session.get(LedgerAccount, f"platform:{kind}:{currency}")
    value = account.balance if account else 0
    db.session.rollback()
    return value
