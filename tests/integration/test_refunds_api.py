"""Refunds through the API against the real sandbox: reservation, PSP refund, webhooks, failures, refusals."""

import pytest
from sqlalchemy import func, select, update

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.openapi import assert_response
from tests.support.sandbox import advance_clock, clear_faults, set_faults, stripe_client
from webapp.extensions import db
from webapp.models import LedgerAccount, LedgerEntry, PspSession, Refund

PATH = "/v1/payments/{checkout_id}/refunds"


def _fee(amount: int) -> int:
    return (2 * amount * 300 + 10_000) // 20_000 + 30


@pytest.fixture
def shop(client):
    merchant, sellers, key = pay.merchant_with_sellers()
    return merchant, sellers, pay.Api(client, key)


def refund(api: pay.Api, checkout_id: str, idempotency_key: str | None = None, **body):
    db.session.rollback()
    headers = api.headers(**({"Idempotency-Key": idempotency_key} if idempotency_key else {}))
    return api.client.post(f"/v1/payments/{checkout_id}/refunds", json=body, headers=headers)


def test_partial_refund_reserves_then_succeeds_at_the_psp(shop, client, gateway_psp):
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    order = event.orders[0]
    before = books.wallet(sellers[0].id)
    created = refund(api, event.checkout_id, payment_order_id=order.payment_order_id, amount="1.00",
                     reason="requested_by_customer")
    body = assert_response(created, PATH, "POST")
    assert created.status_code == 201 and body["status"] == "requested" and body["amount"] == "1.00"
    # proportional: the platform gives back round_half_up(39 * 100 / 315) = 12 of its 39
    assert (body["seller_share"], body["fee_share"]) == ("0.88", "0.12")
    assert books.wallet(sellers[0].id) == (before[0] - 88, 0)  # reserved at once, from the pending side
    assert books.platform("refunds") == 100

    books.drain_money(books.refunds.CREATE_TOPIC)
    found = db.session.get(Refund, body["id"])
    assert found.status == "succeeded" and found.psp_refund_id.startswith("re_")
    psp_refund = stripe_client(gateway_psp.url).v1.refunds.retrieve(found.psp_refund_id)
    assert psp_refund.amount == 100 and psp_refund.metadata["refund_id"] == found.id
    assert books.platform("refunds") == 0
    pay.wait_until(lambda: (books.drain_money(), db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                                                   .where(LedgerEntry.refund_id == found.id)))[1],
                   what="refund webhooks applied")
    kinds = sorted(db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.refund_id == found.id)))
    assert kinds == ["refund_paid", "refund_reserved"]  # webhooks and the sync changed nothing more

    payment = assert_response(api.get(f"/v1/payments/{event.checkout_id}"), "/v1/payments/{checkout_id}")
    assert payment["payment_orders"][0]["amount_refunded"] == "1.00"
    assert [(r["id"], r["status"]) for r in payment["refunds"]] == [(found.id, "succeeded")]


def test_default_amount_is_what_is_left_and_then_nothing_is(shop, client, gateway_psp):
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    order = event.orders[1]
    assert refund(api, event.checkout_id, payment_order_id=order.payment_order_id, amount="0.50").status_code == 201
    rest = refund(api, event.checkout_id, payment_order_id=order.payment_order_id)
    assert rest.status_code == 201 and rest.json["amount"] == "1.50"
    books.drain_money(books.refunds.CREATE_TOPIC)
    assert books.wallet(sellers[1].id) == (0, 0)  # the whole seller share went back
    again = refund(api, event.checkout_id, payment_order_id=order.payment_order_id, amount="0.01")
    assert again.status_code == 400 and again.json["error"]["code"] == "payment_order_fully_refunded"
    assert books.wallet(sellers[0].id) == (315 - _fee(315), 0)  # the other order is untouched


@pytest.mark.parametrize("body, status, code, param", [
    ({"payment_order_id": "nope"}, 404, "resource_missing", "payment_order_id"),
    ({}, 400, "parameter_missing", "payment_order_id"),
    ({"payment_order_id": "{order}", "amount": "3.16"}, 400, "amount_too_large", "amount"),
    ({"payment_order_id": "{order}", "amount": "1.005"}, 400, "amount_invalid", "amount"),
    ({"payment_order_id": "{order}", "amount": "0"}, 400, "amount_too_small", "amount"),
    ({"payment_order_id": "{order}", "amount": 1}, 400, "amount_invalid", "amount"),
    ({"payment_order_id": "{order}", "reason": "because"}, 400, "parameter_invalid", "reason"),
    ({"payment_order_id": "{order}", "extra": 1}, 400, "parameter_unknown", "extra"),
])
def test_bad_requests_name_the_field_and_reserve_nothing(shop, client, gateway_psp, body, status, code, param):
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    wallet = books.wallet(sellers[0].id)
    body = {k: (v.format(order=event.orders[0].payment_order_id) if isinstance(v, str) else v)
            for k, v in body.items()}
    response = refund(api, event.checkout_id, **body)
    assert_response(response, PATH, "POST")
    assert (response.status_code, response.json["error"]["code"], response.json["error"].get("param")) == (
        status, code, param)
    assert books.wallet(sellers[0].id) == wallet and db.session.scalar(select(func.count()).select_from(Refund)) == 0


def test_unpaid_orders_and_unknown_or_foreign_payments_cannot_be_refunded(shop, client):
    _, sellers, api = shop
    created = api.create(pay.body(sellers))
    first_order = created.json["payment_orders"][0]["payment_order_id"]
    unpaid = refund(api, created.json["checkout_id"], payment_order_id=first_order)
    assert unpaid.status_code == 400 and unpaid.json["error"]["code"] == "payment_order_not_refundable"
    assert refund(api, "no-such-checkout", payment_order_id="x").status_code == 404
    _, _, other_key = pay.merchant_with_sellers()
    other = pay.Api(client, other_key)
    assert refund(other, created.json["checkout_id"], payment_order_id="x").status_code == 404


def test_idempotency_key_replays_the_refund(shop, client, gateway_psp):
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    body = {"payment_order_id": event.orders[0].payment_order_id, "amount": "1.00"}
    first = refund(api, event.checkout_id, "refund-key-1", **body)
    again = refund(api, event.checkout_id, "refund-key-1", **body)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    different = refund(api, event.checkout_id, "refund-key-1", **{**body, "amount": "2.00"})
    assert different.status_code == 409 and different.json["error"]["type"] == "idempotency_error"
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1


def test_a_refund_that_bounces_returns_the_money_to_the_wallet(app, shop, client, gateway_server, tmp_path):
    """Card 4000 0000 0000 5126: the refund succeeds, then fails an hour later (refund.failed)."""
    with books.own_psp(app, gateway_server, tmp_path) as psp:  # it moves the PSP's clock
        _bounce(shop, client, psp)


def _bounce(shop, client, psp):
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, psp.url, card_number="4000000000005126")
    before = books.wallet(sellers[0].id)
    created = refund(api, event.checkout_id, payment_order_id=event.orders[0].payment_order_id, amount="2.00")
    books.drain_money(books.refunds.CREATE_TOPIC)
    assert db.session.get(Refund, created.json["id"]).status == "succeeded"
    assert books.wallet(sellers[0].id) != before
    advance_clock(psp.url, 3600 + 60)

    def failed():
        books.drain_money()
        return db.session.get(Refund, created.json["id"]).status == "failed"

    pay.wait_until(failed, what="refund.failed applied")
    assert books.wallet(sellers[0].id) == before
    found = db.session.get(Refund, created.json["id"])
    assert found.failure_reason == "expired_or_canceled_card"
    kinds = sorted(db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.refund_id == found.id)))
    assert kinds == ["refund_paid", "refund_reserved", "refund_returned"]
    payment = assert_response(api.get(f"/v1/payments/{event.checkout_id}"), "/v1/payments/{checkout_id}")
    assert payment["refunds"][0]["status"] == "failed" and payment["payment_orders"][0]["amount_refunded"] == "0.00"
    # The bounced amount is refundable again: the whole order can be refunded.
    assert refund(api, event.checkout_id, payment_order_id=event.orders[0].payment_order_id).json["amount"] == "3.15"


def test_a_refund_the_psp_refuses_releases_the_reservation(shop, client, gateway_psp):
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    intent = db.session.scalar(select(PspSession.payment_intent_id).where(PspSession.payment_event_id == event.id))
    stripe_client(gateway_psp.url).v1.refunds.create({"payment_intent": intent})  # refunded outside the gateway
    before = books.wallet(sellers[0].id)
    created = refund(api, event.checkout_id, payment_order_id=event.orders[0].payment_order_id, amount="1.00")
    assert books.wallet(sellers[0].id)[0] < before[0]
    books.drain_money(books.refunds.CREATE_TOPIC)
    found = db.session.get(Refund, created.json["id"])
    assert found.status == "failed" and "charge_already_refunded" in found.failure_reason
    assert books.wallet(sellers[0].id) == before
    assert books.platform("refunds") == 0


def test_psp_outage_is_retried_with_the_same_key_and_creates_one_refund(shop, client, gateway_psp):
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    set_faults(gateway_psp.url, {"seed": 3, "api": [{"path_prefix": "/v1/refunds", "error_rate": 1.0,
                                                      "error_kinds": ["503"]}]})
    try:
        created = refund(api, event.checkout_id, payment_order_id=event.orders[0].payment_order_id, amount="1.00")
        books.drain_money(books.refunds.CREATE_TOPIC)
        assert db.session.get(Refund, created.json["id"]).status == "requested"
    finally:
        clear_faults(gateway_psp.url)
    pay.wait_until(lambda: (books.drain_money(books.refunds.CREATE_TOPIC),
                            db.session.get(Refund, created.json["id"]).status == "succeeded")[1], what="retry")
    intent = db.session.scalar(select(PspSession.payment_intent_id).where(PspSession.payment_event_id == event.id))
    assert len(stripe_client(gateway_psp.url).v1.refunds.list({"payment_intent": intent}).data) == 1


def test_a_wallet_that_cannot_cover_the_refund_refuses_it(shop, client, gateway_psp):
    """As after a payout: the wallet side holding the order's money has less than the seller's share."""
    _, sellers, api = shop
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    account = f"seller:{sellers[0].id}:pending:USD"
    held = db.session.get(LedgerAccount, account).balance
    db.session.execute(update(LedgerAccount).where(LedgerAccount.id == account).values(balance=50))
    db.session.commit()
    try:
        refused = refund(api, event.checkout_id, payment_order_id=event.orders[0].payment_order_id, amount="1.00")
        assert refused.status_code == 400, refused.json
        assert refused.json["error"]["code"] == "wallet_balance_insufficient"
        assert "holds 0.50 USD pending, less than the 0.88 USD" in refused.json["error"]["message"]
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    finally:
        db.session.rollback()
        db.session.execute(update(LedgerAccount).where(LedgerAccount.id == account).values(balance=held))
        db.session.commit()


def test_the_list_shows_each_payment_as_its_own_answer_does(shop, client, gateway_psp):
    """The list reads plain rows (webapp.services.payment_reads), the single payment ORM objects: same answer."""
    _, sellers, api = shop
    paid = books.paid_checkout(client, api, sellers, gateway_psp.url)
    for order, amount in ((paid.orders[0], "1.00"), (paid.orders[1], "0.50"), (paid.orders[0], "0.25")):
        assert refund(api, paid.checkout_id, payment_order_id=order.payment_order_id, amount=amount).status_code == 201
    nameless = pay.body(sellers, checkout_id="nameless")
    del nameless["buyer_info"]["name"]
    nameless["payment_orders"][0]["description"] = "A blue mug"
    assert api.create(nameless).status_code == 201
    assert api.create(pay.body(sellers, checkout_id="plain")).status_code == 201

    first = assert_response(api.get("/v1/payments?limit=2"), "/v1/payments")
    rest = assert_response(api.get(f"/v1/payments?limit=2&starting_after={first['data'][-1]['id']}"), "/v1/payments")
    assert first["has_more"] and not rest["has_more"]
    listed = first["data"] + rest["data"]
    assert [p["checkout_id"] for p in listed] == ["plain", "nameless", paid.checkout_id]
    for item in listed:
        assert item == api.get(f"/v1/payments/{item['checkout_id']}").json
    assert [r["amount"] for r in listed[2]["refunds"]] == ["1.00", "0.50", "0.25"]
    assert listed[1]["buyer_info"]["name"] is None

    after_last = api.get(f"/v1/payments?starting_after={listed[-1]['id']}")
    assert after_last.status_code == 200 and after_last.json["data"] == [] and not after_last.json["has_more"]
    unknown = api.get("/v1/payments?starting_after=pay_nosuchpayment")
    assert unknown.status_code == 400 and unknown.json["error"]["param"] == "starting_after"
