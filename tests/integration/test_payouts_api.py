"""The payout API against the sandbox: real payouts listed, filtered, paginated and read with statements that sum
to their amounts; paying out now (manual schedules) and every refusal; failures; tenant isolation; both
databases. Tests that move the sandbox clock use a sandbox of their own."""

import secrets
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from tests.support.api_client import JsonApi
from tests.support.openapi import assert_response
from webapp.extensions import db
from webapp.models import IdempotencyKey, Payout, SellerAccount

PATH = "/v1/payouts"
ONE = "/v1/payouts/{id}"
SELLER = "/v1/seller_accounts/{id}"


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def _shop(client, ibans: list[str], schedule: dict | None = None):
    """A merchant with sellers onboarded at the sandbox, and its API; `schedule` set through the API."""
    merchant = factories.merchant()
    api = JsonApi(client, factories.api_key(merchant))
    sellers = po.onboarded_sellers(merchant, ibans)
    if schedule is not None:
        for seller in sellers:
            response = api.post(f"/v1/seller_accounts/{seller.id}", {"payout_schedule": schedule})
            assert response.status_code == 200, response.json
    return api, [db.session.get(SellerAccount, s.id) for s in sellers]


def _total(items: list[dict]) -> Decimal:
    return sum((Decimal(item["amount"]) for item in items), Decimal(0))


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _settled(payout_id: str, status: str) -> None:
    pay.wait_until(lambda: (po.drain_payouts(), db.session.get(Payout, payout_id).status == status)[1],
                   what=f"payout {payout_id} {status}")


def test_paid_payouts_are_listed_filtered_paginated_and_read_with_their_statement(client, psp):
    api, (first, second) = _shop(client, po.GOOD_IBANS[:2])
    both = books.paid_checkout(client, api, [first, second], psp.url, amounts=("30.00", "20.00"))
    alone = books.paid_checkout(client, api, [first], psp.url, amounts=("5.00",))
    po.make_available(psp.url)
    available = books.wallet(first.id)[1]
    assert len(po.run_and_submit().created) == 2

    mine = po.payouts_of(first.id)[0]
    balance = assert_response(api.get(f"{SELLER}/balance".format(id=first.id)), f"{SELLER}/balance")
    assert balance["in_transit"] == [{"amount": f"{Decimal(mine.amount) / 100:.2f}", "currency": "USD"}]
    assert balance["available"] == [{"amount": "0.00", "currency": "USD"}]
    po.settle_payouts(psp.url)
    for payout in po.payouts_of(first.id) + po.payouts_of(second.id):
        _settled(payout.id, "paid")

    listed = assert_response(api.get(PATH), PATH)
    assert listed["object"] == "list" and not listed["has_more"] and len(listed["data"]) == 2
    assert {p["status"] for p in listed["data"]} == {"paid"} and all(p["arrival_date"] for p in listed["data"])
    assert "items" not in listed["data"][0]
    page = assert_response(api.get(f"{PATH}?limit=1"), PATH)
    rest = assert_response(api.get(f"{PATH}?limit=1&starting_after={page['data'][0]['id']}"), PATH)
    assert page["has_more"] and not rest["has_more"]
    assert [p["id"] for p in page["data"] + rest["data"]] == [p["id"] for p in listed["data"]]

    arrival = date.fromisoformat(listed["data"][0]["arrival_date"])
    for query, expected in [(f"seller_account={first.id}", [mine.id]), ("status=paid", 2), ("status=failed", 0),
                            (f"arrival_date[gte]={arrival}&arrival_date[lte]={arrival}", 2),
                            (f"arrival_date[lte]={arrival - timedelta(days=1)}", 0),
                            (f"arrival_date[gte]={arrival + timedelta(days=1)}", 0)]:
        found = assert_response(api.get(f"{PATH}?{query}"), PATH)["data"]
        assert ([p["id"] for p in found] if isinstance(expected, list) else len(found)) == expected, query

    payout = assert_response(api.get(f"{PATH}/{mine.id}"), ONE)
    assert (payout["object"], payout["seller_account"], payout["status"], payout["source"]) == (
        "payout", first.id, "paid", "schedule")
    assert Decimal(payout["amount"]) * 100 == available and _total(payout["items"]) == Decimal(payout["amount"])
    assert sorted((i["type"], i["payment_order_id"], i["checkout_id"], i["released"]) for i in payout["items"]) == \
        sorted([("payment_order", both.orders[0].payment_order_id, both.checkout_id, False),
                ("payment_order", alone.orders[0].payment_order_id, alone.checkout_id, False)])
    other = assert_response(api.get(f"{PATH}/{po.payouts_of(second.id)[0].id}"), ONE)
    assert [i["payment_order_id"] for i in other["items"]] == [both.orders[1].payment_order_id]
    assert _total(other["items"]) == Decimal(other["amount"])


def test_pay_now_for_a_manual_schedule_with_idempotency_and_refusals(client, psp):
    api, (seller,) = _shop(client, po.GOOD_IBANS[:1], schedule={"interval": "manual"})
    event = books.paid_checkout(client, api, [seller], psp.url, amounts=("42.00",))
    early = api.post(PATH, {"seller_account": seller.id})
    error = assert_response(early, PATH, "POST")["error"]
    assert early.status_code == 400 and (error["code"], error["param"]) == ("nothing_to_pay_out", "seller_account")
    assert "nothing to pay out" in error["message"]

    po.make_available(psp.url)
    available = books.wallet(seller.id)[1]
    assert po.run_and_submit().created == []  # a manual schedule is never due
    created = api.post(PATH, {"seller_account": seller.id}, idempotency_key="pay-now-1")
    payout = assert_response(created, PATH, "POST")
    assert created.status_code == 201 and (payout["status"], payout["source"]) == ("pending", "api")
    assert Decimal(payout["amount"]) * 100 == available and _total(payout["items"]) == Decimal(payout["amount"])
    assert [i["payment_order_id"] for i in payout["items"]] == [event.orders[0].payment_order_id]

    replay = api.post(PATH, {"seller_account": seller.id}, idempotency_key="pay-now-1")
    assert replay.status_code == 201 and replay.json == payout and replay.headers["Idempotent-Replayed"] == "true"
    other_body = api.post(PATH, {"seller_account": "sel_other"}, idempotency_key="pay-now-1")
    assert other_body.status_code == 409 and other_body.json["error"]["type"] == "idempotency_error"
    again = api.post(PATH, {"seller_account": seller.id}, idempotency_key="pay-now-2")
    assert again.status_code == 400 and again.json["error"]["code"] == "nothing_to_pay_out"
    assert _count(Payout) == 1 and _count(IdempotencyKey) == 1  # the refusal stored no key

    po.drain_payouts()
    po.drain_payouts()
    po.settle_payouts(psp.url)
    _settled(payout["id"], "paid")
    paid = assert_response(api.get(f"{PATH}/{payout['id']}"), ONE)
    assert paid["status"] == "paid" and paid["items"] == payout["items"]
    assert [p["id"] for p in api.get(f"{PATH}?seller_account={seller.id}&status=paid").json["data"]] == [paid["id"]]


def test_a_failed_payout_keeps_its_released_statement_and_pauses_until_the_iban_is_replaced(client, psp):
    api, (seller,) = _shop(client, [po.NO_ACCOUNT_IBAN], schedule={"interval": "manual"})
    event = books.paid_checkout(client, api, [seller], psp.url, amounts=("12.00",))
    po.make_available(psp.url)
    available = books.wallet(seller.id)[1]
    first = api.post(PATH, {"seller_account": seller.id}).json
    po.drain_payouts()
    po.drain_payouts()
    po.settle_payouts(psp.url)
    _settled(first["id"], "failed")

    failed = assert_response(api.get(f"{PATH}/{first['id']}"), ONE)
    assert (failed["status"], failed["failure_code"]) == ("failed", "no_account") and failed["failure_message"]
    assert all(item["released"] for item in failed["items"]) and _total(failed["items"]) == Decimal(failed["amount"])
    account = assert_response(api.get(SELLER.format(id=seller.id)), SELLER)
    assert account["payouts_paused_reason"] == "bank_account_errored"
    assert account["bank_account"] == {"last4": po.NO_ACCOUNT_IBAN[-4:], "status": "errored"}
    pay.wait_until(lambda: (po.drain_payouts(), books.wallet(seller.id)[1] == available)[1], what="money back")

    refused = api.post(PATH, {"seller_account": seller.id})
    error = assert_response(refused, PATH, "POST")["error"]
    assert refused.status_code == 400 and error["code"] == "bank_account_errored"
    assert "Replace the bank account" in error["message"]

    replaced = api.post(SELLER.format(id=seller.id), {"iban": po.GOOD_IBANS[2]})
    assert replaced.status_code == 200 and replaced.json["bank_account"]["status"] == "pending"
    pay.wait_until(lambda: (po.drain_payouts(), db.session.get(SellerAccount, seller.id).bank_account_status
                            == "active")[1], what="bank account replaced")
    assert api.get(SELLER.format(id=seller.id)).json["payouts_paused_reason"] is None
    retry = assert_response(api.post(PATH, {"seller_account": seller.id}), PATH, "POST")
    assert Decimal(retry["amount"]) * 100 == available and retry["id"] != first["id"]
    assert [(i["payment_order_id"], i["released"]) for i in retry["items"]] == [
        (event.orders[0].payment_order_id, False)]


def test_a_refund_after_the_payout_shows_a_negative_balance_and_refuses_to_pay(client, psp):
    api, (seller,) = _shop(client, po.GOOD_IBANS[:1])
    event = books.paid_checkout(client, api, [seller], psp.url, amounts=("10.00",))
    po.make_available(psp.url)
    (payout_id,) = po.run_and_submit().created
    refund = api.client.post(f"/v1/payments/{event.checkout_id}/refunds", headers=api.headers(),
                             json={"payment_order_id": event.orders[0].payment_order_id, "amount": "4.00"})
    assert refund.status_code == 201, refund.json
    books.drain_money()
    available = books.wallet(seller.id)[1]
    assert available < 0
    balance = assert_response(api.get(f"{SELLER}/balance".format(id=seller.id)), f"{SELLER}/balance")
    assert balance["available"] == [{"amount": f"-{Decimal(-available) / 100:.2f}", "currency": "USD"}]
    assert api.get(SELLER.format(id=seller.id)).json["payouts_paused_reason"] == "negative_balance"
    refused = api.post(PATH, {"seller_account": seller.id})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "negative_balance"
    assert [p.id for p in po.payouts_of(seller.id)] == [payout_id]


def test_a_seller_still_onboarding_cannot_be_paid_out(client):
    api = JsonApi(client, factories.api_key(factories.merchant()))
    seller = api.post("/v1/seller_accounts", {"display_name": "New", "currency": "USD",
                                              "iban": po.GOOD_IBANS[0]}).json
    refused = api.post(PATH, {"seller_account": seller["id"]})
    assert refused.status_code == 400 and assert_response(refused, PATH, "POST")["error"]["code"] == "onboarding"
    assert _count(Payout) == 0


def test_another_merchants_payouts_and_sellers_look_missing(client, psp):
    api, (seller,) = _shop(client, po.GOOD_IBANS[:1], schedule={"interval": "manual"})
    books.paid_checkout(client, api, [seller], psp.url, amounts=("8.00",))
    po.make_available(psp.url)
    payout = api.post(PATH, {"seller_account": seller.id}).json
    other = JsonApi(client, factories.api_key(factories.merchant()))
    missing = other.get(f"{PATH}/{payout['id']}")
    assert missing.status_code == 404 and assert_response(missing, ONE)["error"]["code"] == "resource_missing"
    stolen = other.post(PATH, {"seller_account": seller.id})
    assert stolen.status_code == 404 and assert_response(stolen, PATH, "POST")["error"]["param"] == "seller_account"
    assert other.get(PATH).json["data"] == []
    for query in (f"seller_account={seller.id}", f"starting_after={payout['id']}"):
        response = other.get(f"{PATH}?{query}")
        assert response.status_code == 400 and assert_response(response, PATH)["error"]["code"] == "resource_missing"
    assert _count(Payout) == 1 and api.get(f"{PATH}/{payout['id']}").json["id"] == payout["id"]


BAD_BODIES = [
    ({}, "seller_account", "parameter_missing"),
    ({"seller_account": None}, "seller_account", "parameter_missing"),
    ({"seller_account": 42}, "seller_account", "parameter_invalid"),
    ({"seller_account": "sel_x", "amount": "5.00"}, "amount", "parameter_unknown"),
    ({"seller_account": "sel_\x00"}, "seller_account", "parameter_invalid"),
]


@pytest.mark.parametrize(("payload", "param", "code"), BAD_BODIES)
def test_bad_payout_requests_are_400s_and_write_nothing(client, payload, param, code):
    api = JsonApi(client, factories.api_key(factories.merchant()))
    response = api.post(PATH, payload, idempotency_key=secrets.token_hex(8))
    assert response.status_code == 400, response.json
    error = assert_response(response, PATH, "POST")["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert _count(Payout) == 0 and _count(IdempotencyKey) == 0


@pytest.mark.parametrize(("query", "param", "code"), [
    ("status=sent", "status", "parameter_invalid"),
    ("arrival_date[gte]=2026-13-01", "arrival_date[gte]", "parameter_invalid"),
    ("arrival_date[lte]=30.11.2026", "arrival_date[lte]", "parameter_invalid"),
    ("arrival_date[gt]=2026-11-30", "arrival_date[gt]", "parameter_unknown"),
    ("limit=500", "limit", "parameter_invalid"),
    ("seller_account=sel_nobody", "seller_account", "resource_missing"),
    ("starting_after=pyt_nothing", "starting_after", "resource_missing"),
])
def test_bad_list_parameters_are_400s(client, query, param, code):
    api = JsonApi(client, factories.api_key(factories.merchant()))
    response = api.get(f"{PATH}?{query}")
    assert response.status_code == 400
    error = assert_response(response, PATH)["error"]
    assert (error["param"], error["code"]) == (param, code)


@pytest.mark.parametrize("payout_id", ["pyt_missing", "a%00b", "p" * 100])
def test_unknown_or_malformed_payout_ids_are_404s(client, payout_id):
    api = JsonApi(client, factories.api_key(factories.merchant()))
    response = api.get(f"{PATH}/{payout_id}")
    assert response.status_code == 404 and assert_response(response, ONE)["error"]["code"] == "resource_missing"
