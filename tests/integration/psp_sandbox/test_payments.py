"""Paying a session: every test card, 3-D Secure, wallet, bank transfer, and the payment page's checks."""

from __future__ import annotations

import re

import pytest
import requests

from tests.support.sandbox import advance_clock, checkout_params, pay_session
from tests.support.stripe_schema import assert_valid

SUCCEEDING = ["4242424242424242", "4000056655665556", "5555555555554444", "378282246310005", "4000000000000077",
              "4000000000000259", "4000000000005126"]
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline"),
    "4000000000000341": ("card_declined", "generic_decline"),
    "4000000000009995": ("card_declined", "insufficient_funds"),
    "4000000000009987": ("card_declined", "lost_card"),
    "4000000000009979": ("card_declined", "stolen_card"),
    "4000000000000069": ("expired_card", "expired_card"),
    "4000000000000127": ("incorrect_cvc", "incorrect_cvc"),
    "4000000000000119": ("processing_error", "processing_error"),
    "4000000000006975": ("card_declined", "card_velocity_exceeded"),
    "4100000000000019": ("card_declined", "fraudulent"),
}
THREE_D_SECURE = ["4000002500003155", "4000002760003184", "4000000000003220"]


def _events_for(receiver, object_ids, count):
    return receiver.wait_for(lambda events: len(_matching(events, object_ids)) >= count)


def _matching(events, object_ids):
    return [e for e in events if e["data"]["object"].get("id") in object_ids]


@pytest.mark.parametrize("number", SUCCEEDING)
def test_succeeding_cards(psp, sandbox, receiver, number):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    cvc = "1234" if number.startswith("37") else "123"
    result = pay_session(sandbox.url, session.id, card_number=number, cvc=cvc)
    assert result["status"] == "succeeded"
    assert result["redirect_url"] == f"http://127.0.0.1:9/return?session_id={session.id}"
    paid = psp.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent.latest_charge"]})
    charge = paid.payment_intent.latest_charge
    assert_valid(charge)
    assert (charge.status, charge.paid, charge.payment_method_details.card.last4) == ("succeeded", True, number[-4:])
    fee = psp.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert fee.status == ("available" if number == "4000000000000077" else "pending")
    ids = {session.id, paid.payment_intent.id, charge.id}
    events = _events_for(receiver, ids, 4)
    types = {e["type"] for e in _matching(events, ids)}
    assert {"payment_intent.created", "charge.succeeded", "payment_intent.succeeded",
            "checkout.session.completed"} <= types
    for event in _matching(events, ids):
        assert_valid(event)


@pytest.mark.parametrize(("number", "codes"), DECLINES.items())
def test_declined_cards_leave_the_session_open(psp, sandbox, receiver, number, codes):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    result = pay_session(sandbox.url, session.id, card_number=number)
    assert result["status"] == "declined" and result["message"]
    session = psp.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent.latest_charge"]})
    assert (session.status, session.payment_status) == ("open", "unpaid")
    intent = session.payment_intent
    assert_valid(intent)
    assert intent.status == "requires_payment_method"
    assert (intent.last_payment_error.code, intent.last_payment_error.decline_code) == codes
    assert intent.latest_charge.status == "failed" and intent.latest_charge.failure_code == codes[0]
    events = _events_for(receiver, {intent.id, intent.latest_charge.id}, 3)
    assert {"charge.failed", "payment_intent.payment_failed"} <= {
        e["type"] for e in _matching(events, {intent.id, intent.latest_charge.id})}
    # The buyer may try again with another card.
    assert pay_session(sandbox.url, session.id, card_number="4242424242424242")["status"] == "succeeded"


@pytest.mark.parametrize("number", THREE_D_SECURE)
def test_3ds_complete(psp, sandbox, number):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    waiting = pay_session(sandbox.url, session.id, card_number=number, three_d_secure="none")
    assert waiting["status"] == "requires_action"
    intent = psp.v1.payment_intents.retrieve(waiting["session"]["payment_intent"])
    assert_valid(intent)
    assert intent.status == "requires_action" and intent.next_action.type == "redirect_to_url"
    page = requests.get(f"{sandbox.url}/pay/{session.id}/3ds", timeout=10)
    assert "Complete authentication" in page.text and "Fail authentication" in page.text
    answered = requests.post(f"{sandbox.url}/pay/{session.id}/3ds", data={"result": "complete"},
                             allow_redirects=False, timeout=10)
    assert answered.status_code == 303
    assert answered.headers["Location"] == f"http://127.0.0.1:9/return?session_id={session.id}"
    assert psp.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_3ds_fail_returns_to_the_form_still_payable(psp, sandbox):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    result = pay_session(sandbox.url, session.id, card_number="4000002500003155", three_d_secure="fail")
    assert result["status"] == "declined"
    intent = psp.v1.payment_intents.retrieve(result["session"]["payment_intent"])
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_intent_authentication_failure"
    assert psp.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert pay_session(sandbox.url, session.id, card_number="4000002500003155")["status"] == "succeeded"


def test_3ds_then_insufficient_funds(psp, sandbox):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    result = pay_session(sandbox.url, session.id, card_number="4000008260003178", three_d_secure="complete")
    assert result["status"] == "declined"
    intent = psp.v1.payment_intents.retrieve(result["session"]["payment_intent"])
    assert intent.last_payment_error.decline_code == "insufficient_funds"


def test_wallet_pays_at_once(psp, sandbox):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    response = requests.post(f"{sandbox.url}/pay/{session.id}/wallet", data={"email": ""}, allow_redirects=False,
                             timeout=10)
    assert response.status_code == 303
    paid = psp.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent.latest_charge"]})
    assert paid.payment_status == "paid"
    assert paid.payment_intent.latest_charge.payment_method_details.card.wallet.type == "google_pay"


@pytest.mark.parametrize(("email", "outcome"), [("buyer@example.com", "succeeded"),
                                               ("buyer+fail@example.com", "failed")])
def test_bank_transfer_settles_on_the_clock(psp, sandbox, receiver, email, outcome):
    session = psp.v1.checkout.sessions.create(params=checkout_params(customer_email=email))
    result = pay_session(sandbox.url, session.id, method="bank_transfer")
    assert result["status"] == "processing"
    completed = psp.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert (completed.status, completed.payment_status) == ("complete", "unpaid")
    assert completed.payment_intent.status == "processing"
    advance_clock(sandbox.url, 86_400)
    final = psp.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent.latest_charge"]})
    assert_valid(final)
    expected = {"succeeded": ("paid", "succeeded", "succeeded"), "failed": ("unpaid", "requires_payment_method",
                                                                              "failed")}[outcome]
    assert (final.payment_status, final.payment_intent.status, final.payment_intent.latest_charge.status) == expected
    events = receiver.wait_for(lambda events: any(
        e["type"] == f"checkout.session.async_payment_{outcome}" and e["data"]["object"].get("id") == session.id
        for e in events))
    sequence = [e["type"] for e in events if e["data"]["object"].get("id") in {
        session.id, final.payment_intent.id, final.payment_intent.latest_charge.id}]
    assert {"payment_intent.processing", "charge.pending", "checkout.session.completed"} <= set(sequence)


def _form(number, expiry="12 / 34", cvc="123", name="Ada Lovelace"):
    return {"email": "buyer@example.com", "card_number": number, "expiry": expiry, "cvc": cvc, "name": name}


@pytest.mark.parametrize(("form", "field", "message"), [
    (_form("4242424242424241"), "card_number", "Your card number is invalid."),
    (_form("4111111111111111"), "card_number", "non test card"),
    (_form("4242424242424242", expiry="01 / 20"), "expiry", "in the past"),
    (_form("4242424242424242", cvc=""), "cvc", "security code is incomplete"),
    (_form("4242424242424242", name=" "), "name", "Enter the name on your card."),
])
def test_payment_page_field_errors_charge_nothing(psp, sandbox, form, field, message):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    response = requests.post(f"{sandbox.url}/pay/{session.id}/card", data=form, timeout=10)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text and message in response.text
    assert 'aria-invalid="true"' in response.text
    assert form["card_number"] not in response.text, "the card number is never echoed back"
    assert psp.v1.checkout.sessions.retrieve(session.id).payment_intent is None


def test_payment_page_shows_items_and_methods(psp, sandbox):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    page = requests.get(session.url, timeout=10).text
    for text in ("Order for Seller A", "Order for Seller B", "€37.00", "Card number", "Expiry", "CVC",
                 "Name on card", ">Pay<", "Pay with wallet", "Pay by bank transfer", ">Cancel<"):
        assert text in page
    assert re.search(r'<label for="card_number">Card number</label>', page)


def test_payment_page_decline_stays_with_the_error(psp, sandbox):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    response = requests.post(f"{sandbox.url}/pay/{session.id}/card", data=_form("4000000000009995"), timeout=10)
    assert response.status_code == 402
    assert "Your card has insufficient funds." in response.text and 'role="alert"' in response.text
    retry = requests.post(f"{sandbox.url}/pay/{session.id}/card", data=_form("4242424242424242"),
                          allow_redirects=False, timeout=10)
    assert retry.status_code == 303
    assert "This payment is complete" in requests.get(session.url or f"{sandbox.url}/pay/{session.id}",
                                                      timeout=10).text
