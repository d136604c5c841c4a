"""Checkout Sessions through the official SDK: create, retrieve with expansion, list, expire, line items."""

from __future__ import annotations

import pytest
import requests
import stripe

from tests.support.sandbox import advance_clock, checkout_params, pay_session, sandbox_now
from tests.support.stripe_schema import assert_valid, assert_valid_response


def test_create_session_like_the_gateway(psp, sandbox):
    expires_at = sandbox_now(sandbox.url) + 3600
    session = psp.v1.checkout.sessions.create(
        params=checkout_params(expires_at=expires_at), options={"idempotency_key": "create-session-1"}
    )
    assert_valid(session)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_total, session.currency) == (3700, "eur")
    assert session.url == f"{sandbox.url}/pay/{session.id}"
    assert session.client_reference_id == "payment_event_1"
    assert session.customer_email == "buyer@example.com"
    assert session.metadata.to_dict() == {"payment_event": "1"}
    assert session.expires_at == expires_at
    assert session.payment_intent is None, "Stripe creates the PaymentIntent only when the buyer confirms"
    assert "{CHECKOUT_SESSION_ID}" in session.success_url


def test_line_items_list_and_expand(psp):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    items = psp.v1.checkout.sessions.line_items.list(session.id)
    assert_valid_response(items, "GET /v1/checkout/sessions/{session}/line_items")
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Order for Seller A", 2, 3000), ("Order for Seller B", 1, 700)]
    for item in items.data:
        assert_valid(item, "item")
    first = psp.v1.checkout.sessions.line_items.list(session.id, params={"limit": 1})
    assert first.has_more and len(first.data) == 1
    expanded = psp.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert_valid(expanded)
    assert len(expanded.line_items.data) == 2


def test_retrieve_paid_session_expands_the_fee(psp, sandbox):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    assert pay_session(sandbox.url, session.id, card_number="4242424242424242")["status"] == "succeeded"
    paid = psp.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent", "payment_intent.latest_charge.balance_transaction"]}
    )
    assert_valid(paid)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    intent = paid.payment_intent
    assert_valid(intent)
    assert intent.status == "succeeded" and intent.amount_received == 3700
    assert intent.transfer_group == "event_1" and intent.metadata.to_dict() == {"payment_event": "1"}
    charge = intent.latest_charge
    assert_valid(charge)
    assert charge.payment_method_details.card.last4 == "4242"
    assert charge.payment_method_details.card.brand == "visa"
    fee = charge.balance_transaction
    assert_valid(fee)
    # Default pricing: 2.9% + 30 minor units.
    assert (fee.amount, fee.fee, fee.net, fee.status) == (3700, 137, 3563, "pending")
    assert fee.fee_details[0].type == "stripe_fee"
    retrieved = psp.v1.payment_intents.retrieve(intent.id)
    assert_valid(retrieved)


def test_list_sessions_filtered_by_payment_intent(psp, sandbox):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    paid = pay_session(sandbox.url, session.id)["session"]
    listed = psp.v1.checkout.sessions.list(params={"payment_intent": paid["payment_intent"]})
    assert_valid_response(listed, "GET /v1/checkout/sessions")
    assert [s.id for s in listed.data] == [session.id]


def test_expire_an_open_session(psp, sandbox, receiver):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    expired = psp.v1.checkout.sessions.expire(session.id)
    assert_valid(expired)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.checkout.sessions.expire(session.id)
    assert raised.value.http_status == 400
    receiver.wait_for(lambda events: any(
        e["type"] == "checkout.session.expired" and e["data"]["object"].get("id") == session.id for e in events))
    page = requests.get(f"{sandbox.url}/pay/{session.id}", timeout=10)
    assert "This payment page has expired" in page.text
    assert pay_session(sandbox.url, session.id)["status"] == "closed"


def test_session_expires_when_the_clock_passes_expires_at(psp, sandbox, receiver):
    # A minute beyond the shortest allowed lifetime (30 min), so a slow request cannot make it too short.
    session = psp.v1.checkout.sessions.create(params=checkout_params(expires_at=sandbox_now(sandbox.url) + 1860))
    advance_clock(sandbox.url, 1861)
    assert psp.v1.checkout.sessions.retrieve(session.id).status == "expired"
    events = receiver.wait_for(lambda events: any(
        e["type"] == "checkout.session.expired" and e["data"]["object"].get("id") == session.id for e in events))
    event = next(e for e in events if e["data"]["object"].get("id") == session.id)
    assert_valid(event)


@pytest.mark.parametrize(("params", "param"), [
    ({"success_url": None}, "success_url"),
    ({"line_items": None}, "line_items"),
    ({"expires_at": 1}, "expires_at"),
    ({"mode": "subscription"}, "mode"),
])
def test_invalid_session_parameters(psp, params, param):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.checkout.sessions.create(params=checkout_params(**params))
    assert raised.value.param == param
    assert_valid_response(raised.value.json_body, "POST /v1/checkout/sessions", "default")


def test_unknown_session_is_404(psp):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.checkout.sessions.retrieve("cs_test_missing")
    assert raised.value.http_status == 404 and raised.value.code == "resource_missing"
