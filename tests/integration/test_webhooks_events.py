"""Each kind of change records its event, with the object as the API shows it: payments (succeeded, pending, failed,
expired), refunds, payouts (paid, failed) and seller accounts, through the real flows against the sandbox."""

from __future__ import annotations

import pytest

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from tests.support.sandbox import pay_session, stripe_client


def events(api: pay.Api, event_type: str) -> list[dict]:
    return api.get(f"/v1/events?type={event_type}&limit=100").json["data"]


@pytest.fixture
def shop(client):
    _, sellers, key = pay.merchant_with_sellers()
    return sellers, pay.Api(client, key)


def test_an_expired_checkout_is_payment_expired(shop, client, gateway_psp):
    sellers, api = shop
    checkout = pay.executing_checkout(client, api, sellers)
    stripe_client(gateway_psp.url).v1.checkout.sessions.expire(checkout.psp_session_id)
    pay.settle(checkout.id, "FAILED")
    (expired,) = events(api, "payment.expired")
    assert expired["data"]["object"]["id"] == checkout.id and expired["data"]["object"]["failure_code"] == "expired"
    assert events(api, "payment.failed") == [] and events(api, "payment.succeeded") == []


def test_a_bank_transfer_is_pending_then_failed(app, shop, client, gateway_server, tmp_path):
    sellers, api = shop
    # Long enough for PENDING to be seen on a busy machine before the transfer fails.
    with books.own_psp(app, gateway_server, tmp_path, ("--bank-transfer-delay", "5")) as quick_psp:
        checkout = pay.executing_checkout(client, api, sellers)
        answer = pay_session(quick_psp.url, checkout.psp_session_id, method="bank_transfer",
                             email="buyer+fail@example.com")
        assert answer["status"] == "processing", answer
        pay.settle(checkout.id, "PENDING")
        (pending,) = events(api, "payment.pending")
        assert pending["data"]["object"]["status"] == "PENDING"
        pay.settle(checkout.id, "FAILED", timeout=60)
    (failed,) = events(api, "payment.failed")
    assert failed["data"]["object"] == api.get(f"/v1/payments/{checkout.checkout_id}").json


def test_a_refund_is_refund_succeeded_after_payment_succeeded(shop, client, gateway_psp):
    sellers, api = shop
    paid = books.paid_checkout(client, api, sellers, gateway_psp.url)
    (succeeded,) = events(api, "payment.succeeded")
    assert succeeded["data"]["object"]["status"] == "SUCCESS"
    assert all(o["ledger_updated"] for o in succeeded["data"]["object"]["payment_orders"])
    created = api.client.post(f"/v1/payments/{paid.checkout_id}/refunds", headers=api.headers(),
                              json={"payment_order_id": paid.orders[0].payment_order_id, "amount": "1.00"})
    assert created.status_code == 201, created.json
    books.drain_money(books.refunds.CREATE_TOPIC)
    (refunded,) = events(api, "refund.succeeded")
    shown = api.get(f"/v1/payments/{paid.checkout_id}").json["refunds"][0]
    assert refunded["data"]["object"] == shown and shown["status"] == "succeeded"


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def test_payouts_paid_and_failed_and_the_seller_whose_bank_failed(app, client, psp):
    merchant = factories.merchant()
    good, bad = po.onboarded_sellers(merchant, [po.GOOD_IBANS[0], po.NO_ACCOUNT_IBAN])
    api = pay.Api(client, factories.api_key(merchant))
    books.paid_checkout(client, api, [good, bad], psp.url, amounts=("30.00", "12.00"))
    po.make_available(psp.url)
    po.run_and_submit()
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), {po.payouts_of(good.id)[0].status,
                                                 po.payouts_of(bad.id)[0].status} == {"paid", "failed"})[1],
                   what="one payout paid, one failed")
    (paid,) = events(api, "payout.paid")
    (failed,) = events(api, "payout.failed")
    assert paid["data"]["object"]["id"] == po.payouts_of(good.id)[0].id and paid["data"]["object"]["status"] == "paid"
    assert failed["data"]["object"]["seller_account"] == bad.id
    assert failed["data"]["object"]["failure_code"] == "no_account"
    assert sum(float(i["amount"]) for i in paid["data"]["object"]["items"]) == float(paid["data"]["object"]["amount"])
    updates = [e["data"]["object"] for e in events(api, "seller_account.updated")
               if e["data"]["object"]["id"] == bad.id]
    assert any(u["bank_account"]["status"] == "errored" for u in updates)
