"""The PSP port's view of how a buyer paid, against the sandbox over HTTP through the Stripe SDK: every try with
the card's brand and last four (declines with their reason), bank transfer instructions, and the merchant's name
(`branding_settings[display_name]`) on the hosted page, which is never cached."""

from __future__ import annotations

import secrets

import requests

from tests.support.sandbox import pay_session
from webapp.psp import LineItem, NewCheckoutSession, PaymentMethodKind, TryResult, get_psp


def _session(display_name: str | None):
    key = secrets.token_hex(6)
    return get_psp().create_checkout_session(NewCheckoutSession(
        idempotency_key=f"test-{key}", line_items=(LineItem("Mug", 2400, "USD"),),
        success_url="http://127.0.0.1:9/return?session_id={CHECKOUT_SESSION_ID}", cancel_url="http://127.0.0.1:9/",
        client_reference_id=f"pay_{key}", customer_email="buyer@example.com", transfer_group=f"pay_{key}",
        display_name=display_name))


def test_tries_with_card_brand_last_four_and_decline_reason(app, gateway_psp):
    session = _session("Corner Bakery")
    page = requests.get(session.url, timeout=10)
    assert "Corner Bakery" in page.text and page.headers["Cache-Control"] == "no-store"
    assert get_psp().session_payments(session.id).tries == ()  # nothing tried yet
    assert pay_session(gateway_psp.url, session.id, card_number="4000000000000002")["status"] == "declined"
    assert pay_session(gateway_psp.url, session.id, card_number="5555555555554444")["status"] == "succeeded"
    found = get_psp().session_payments(session.id)
    declined, paid = found.tries
    assert (declined.method, declined.brand, declined.last4, declined.result) == (
        PaymentMethodKind.CARD, "visa", "0002", TryResult.DECLINED)
    assert declined.decline_reason == "Your card was declined."
    assert (paid.brand, paid.last4, paid.result, paid.decline_reason) == ("mastercard", "4444", TryResult.SUCCEEDED,
                                                                          None)
    assert found.bank_transfer is None
    closed = requests.get(session.url, timeout=10)  # after paying, the page says so and offers no card form
    assert "This payment is complete" in closed.text and 'name="card_number"' not in closed.text


def test_bank_transfer_instructions(app, gateway_psp):
    session = _session(None)
    assert pay_session(gateway_psp.url, session.id, method="bank_transfer",
                       email="buyer@example.com")["status"] == "processing"
    found = get_psp().session_payments(session.id)
    assert [t.method for t in found.tries] == [PaymentMethodKind.BANK_TRANSFER]
    assert found.tries[0].result is TryResult.PENDING
    transfer = found.bank_transfer
    assert transfer is not None and (transfer.amount, transfer.currency) == (2400, "USD")
    assert transfer.iban == "DE89370400440532013000" and transfer.reference == session.id[-12:].upper()
