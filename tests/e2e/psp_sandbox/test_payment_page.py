"""A person paying on the sandbox's hosted page in Chromium: a card with a decline and retry, and 3-D Secure."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.sandbox import checkout_params, stripe_client

pytestmark = pytest.mark.e2e


def _session(sandbox, shop_url):
    psp = stripe_client(sandbox.url)
    session = psp.v1.checkout.sessions.create(params=checkout_params(
        success_url=f"{shop_url}/return?session_id={{CHECKOUT_SESSION_ID}}", cancel_url=f"{shop_url}/cancel"))
    return psp, session


def _fill_card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ada Lovelace")


def test_pay_by_card_after_a_decline(page: Page, sandbox, shop_url, receiver):
    psp, session = _session(sandbox, shop_url)
    page.goto(session.url)
    expect(page.get_by_role("heading", name="Pay €37.00")).to_be_visible()
    expect(page.get_by_text("Order for Seller A")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel")).to_have_attribute("href", f"{shop_url}/cancel")

    _fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    assert psp.v1.checkout.sessions.retrieve(session.id).status == "open"

    # Keyboard only: the form is usable without a mouse.
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Name on card").press("Enter")
    expect(page).to_have_url(f"{shop_url}/return?session_id={session.id}")
    paid = psp.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent.latest_charge"]})
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    card = paid.payment_intent.latest_charge.payment_method_details.card
    assert (card.last4, card.wallet) == ("4242", None), "Enter pressed Pay, not the wallet button"
    receiver.wait_for(lambda events: any(
        e["type"] == "checkout.session.completed" and e["data"]["object"]["id"] == session.id for e in events))

    page.goto(f"{sandbox.url}/pay/{session.id}")
    expect(page.get_by_role("heading", name="This payment is complete")).to_be_visible()


def test_pay_with_3d_secure_after_a_failed_authentication(page: Page, sandbox, shop_url):
    psp, session = _session(sandbox, shop_url)
    page.goto(session.url)
    _fill_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("heading", name="3-D Secure authentication")).to_be_visible()
    page.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("alert")).to_contain_text("unable to authenticate")
    assert psp.v1.checkout.sessions.retrieve(session.id).status == "open"

    _fill_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page).to_have_url(re.compile(re.escape(f"{shop_url}/return?session_id={session.id}")))
    assert psp.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
