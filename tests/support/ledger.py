"""Helpers for ledger, wallet and refund tests: a paid checkout, draining the money jobs, reading wallets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import payments as pay
from tests.support.processes import Process
from tests.support.sandbox import pay_session, start_sandbox
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


@contextmanager
def own_psp(app, gateway_server: str, log_dir: Path, extra_args: tuple[str, ...] = ()) -> Iterator[Process]:
    """A sandbox of this test's own, for tests that move its clock: advancing the shared sandbox's clock would
    put later tests' Checkout Sessions' `expires_at` (computed from our clock) in the sandbox's past.
    `extra_args`: its command line's settings (shorter delays…)."""
    from tests.integration.conftest import WEBHOOK_SECRET

    process = start_sandbox(log_dir, webhook_url=f"{gateway_server}/webhooks/psp", webhook_secret=WEBHOOK_SECRET,
                            name="clock_psp", extra_args=extra_args)
    original = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = process.url
    app.extensions.pop("psp", None)  # the adapter is built once per app: build it again for this sandbox
    try:
        yield process
    finally:
        app.config["STRIPE_API_BASE"] = original
        app.extensions.pop("psp", None)
        process.stop()
