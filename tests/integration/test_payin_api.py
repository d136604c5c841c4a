"""The merchant API: validation, authentication, idempotency and concurrency, on both databases."""

import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import func, select, text

from tests.support import factories
from tests.support import payments as pay
from tests.support.openapi import assert_response
from webapp.dbtypes import utcnow
from webapp.domain.payment_requests import CreatePayment, request_hash
from webapp.extensions import db, limiter
from webapp.models import IdempotencyKey, PaymentEvent, PaymentOrder
from webapp.services.idempotency import ABANDONED_AFTER

PATH = "/v1/payments"


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def shop(client):
    merchant, sellers, key = pay.merchant_with_sellers()
    return merchant, sellers, pay.Api(client, key)


def test_create_get_and_list_match_the_openapi_document(shop):
    _, sellers, api = shop
    created = api.create(pay.body(sellers, checkout_id="order-1"))
    body = assert_response(created, PATH, "POST")
    assert created.status_code == 201
    assert [o["status"] for o in body["payment_orders"]] == ["NOT_STARTED", "NOT_STARTED"]
    assert body["buyer_info"]["email"] == "buyer@example.com"
    fetched = api.get("/v1/payments/order-1")
    assert assert_response(fetched, "/v1/payments/{checkout_id}") == body
    for n in range(2, 5):
        api.create(pay.body(sellers, checkout_id=f"order-{n}"))
    first = assert_response(api.get("/v1/payments?limit=3"), PATH)
    assert [p["checkout_id"] for p in first["data"]] == ["order-4", "order-3", "order-2"] and first["has_more"]
    second = api.get(f"/v1/payments?limit=3&starting_after={first['data'][-1]['id']}").json
    assert [p["checkout_id"] for p in second["data"]] == ["order-1"] and not second["has_more"]


def test_openapi_document_is_served(client):
    document = client.get("/v1/openapi.json").json
    assert document["openapi"].startswith("3.") and "/v1/payments" in document["paths"]


def test_jpy_and_seller_by_iban(client):
    api, payload, seller = pay.seller_by_iban(client)
    created = api.create(payload)
    assert created.status_code == 201, created.json
    assert created.json["amount_total"] == "1500" and created.json["payment_orders"][0]["seller_account"] == seller.id


def _bad(sellers, mutate):
    payload = pay.body(sellers)
    mutate(payload)
    return payload


BAD_INPUTS = [
    ("missing checkout_id", lambda p: p.pop("checkout_id"), "checkout_id", "parameter_missing"),
    ("bad checkout_id", lambda p: p.update(checkout_id="has spaces"), "checkout_id", "parameter_invalid"),
    ("missing buyer", lambda p: p.pop("buyer_info"), "buyer_info", "parameter_missing"),
    ("bad email", lambda p: p["buyer_info"].update(email="not-an-email"), "buyer_info[email]", "parameter_invalid"),
    ("no orders", lambda p: p.update(payment_orders=[]), "payment_orders", "parameter_invalid"),
    ("orders not a list", lambda p: p.update(payment_orders={"a": 1}), "payment_orders", "parameter_invalid"),
    (
        "too many orders",
        lambda p: p.update(payment_orders=[dict(p["payment_orders"][0], payment_order_id=f"o{i}") for i in range(101)]),
        "payment_orders",
        "parameter_invalid",
    ),
    (
        "duplicate order id",
        lambda p: p["payment_orders"][1].update(payment_order_id=p["payment_orders"][0]["payment_order_id"]),
        "payment_orders[1][payment_order_id]",
        "parameter_invalid",
    ),
    (
        "amount as number",
        lambda p: p["payment_orders"][0].update(amount=3.15),
        "payment_orders[0][amount]",
        "amount_invalid",
    ),
    (
        "amount zero",
        lambda p: p["payment_orders"][0].update(amount="0"),
        "payment_orders[0][amount]",
        "amount_too_small",
    ),
    (
        "amount negative",
        lambda p: p["payment_orders"][0].update(amount="-1.00"),
        "payment_orders[0][amount]",
        "amount_invalid",
    ),
    (
        "too many decimals",
        lambda p: p["payment_orders"][0].update(amount="3.155"),
        "payment_orders[0][amount]",
        "amount_invalid",
    ),
    (
        "amount too large",
        lambda p: p["payment_orders"][0].update(amount="1000000.00"),
        "payment_orders[0][amount]",
        "amount_too_large",
    ),
    (
        "unknown currency",
        lambda p: [o.update(currency="XYZ") for o in p["payment_orders"]],
        "payment_orders[0][currency]",
        "currency_invalid",
    ),
    (
        "mixed currencies",
        lambda p: p["payment_orders"][1].update(currency="EUR"),
        "payment_orders[1][currency]",
        "currency_mismatch",
    ),
    (
        "missing seller",
        lambda p: p["payment_orders"][0].pop("seller_account"),
        "payment_orders[0][seller_account]",
        "parameter_missing",
    ),
    (
        "unknown seller",
        lambda p: p["payment_orders"][0].update(seller_account="sel_doesnotexist"),
        "payment_orders[0][seller_account]",
        "resource_missing",
    ),
    ("unknown field", lambda p: p.update(shipping="fast"), "shipping", "parameter_unknown"),
    ("bad success url", lambda p: p.update(success_url="javascript:alert(1)"), "success_url", "url_invalid"),
]


@pytest.mark.parametrize(("mutate", "param", "code"), [case[1:] for case in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(shop, mutate, param, code):
    _, sellers, api = shop
    response = api.create(_bad(sellers, mutate), idempotency_key=secrets.token_hex(8))
    assert response.status_code == 400, response.json
    error = assert_response(response, PATH, "POST")["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert _count(PaymentEvent) == 0 and _count(PaymentOrder) == 0 and _count(IdempotencyKey) == 0


def test_japanese_yen_refuses_decimals(client):
    merchant = factories.merchant()
    seller = factories.seller(merchant, currency="JPY")
    response = pay.Api(client, factories.api_key(merchant)).create(
        pay.body([seller], amounts=("100.5",), currency="JPY")
    )
    assert response.status_code == 400 and response.json["error"]["param"] == "payment_orders[0][amount]"


def test_disabled_and_other_merchants_sellers_are_refused(shop):
    _, sellers, api = shop
    other_seller = factories.seller(factories.merchant(), index=2)
    response = api.create(_bad(sellers, lambda p: p["payment_orders"][0].update(seller_account=other_seller.id)))
    assert response.status_code == 400 and response.json["error"]["code"] == "resource_missing"
    sellers[1].status = "disabled"
    db.session.commit()
    response = api.create(pay.body(sellers))
    assert response.status_code == 400 and response.json["error"]["code"] == "seller_account_disabled"
    assert _count(PaymentEvent) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"'])
def test_body_must_be_a_json_object(shop, raw):
    _, _, api = shop
    response = api.client.post(PATH, data=raw, headers=api.headers(**{"Content-Type": "application/json"}))
    assert response.status_code == 400 and response.json["error"]["type"] == "invalid_request_error"


def test_body_over_64kb_is_413(shop):
    _, sellers, api = shop
    payload = pay.body(sellers)
    payload["buyer_info"]["name"] = "x" * 70_000
    response = api.client.post(
        PATH, data=json.dumps(payload), headers=api.headers(**{"Content-Type": "application/json"})
    )
    assert response.status_code == 413 and response.json["error"]["code"] == "request_too_large"


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer gw_live_unknownkey", "Basic abc"])
def test_missing_or_invalid_api_key_is_401(client, header):
    response = client.post(PATH, json={}, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json["error"]["type"] == "invalid_request_error"


def test_revoked_key_is_401(shop):
    merchant, sellers, api = shop
    from webapp.services import api_keys

    api_keys.revoke(merchant, api_keys.authenticate(api.key).id)
    assert api.create(pay.body(sellers)).status_code == 401


def test_another_merchants_payment_looks_missing(shop, client):
    _, sellers, api = shop
    api.create(pay.body(sellers, checkout_id="mine"))
    other = pay.Api(client, factories.api_key(factories.merchant()))
    assert other.get("/v1/payments/mine").status_code == 404
    assert other.get("/v1/payments/nothing").status_code == 404
    assert other.get(PATH).json["data"] == []


def test_card_data_is_refused_and_neither_stored_nor_logged(shop, caplog):
    _, sellers, api = shop
    caplog.set_level(logging.DEBUG)
    for payload in (
        _bad(sellers, lambda p: p.update(credit_card_info={"number": "4242424242424242"})),
        _bad(sellers, lambda p: p["buyer_info"].update(name="4000 0025 0000 3155")),
    ):
        response = api.create(payload, idempotency_key=secrets.token_hex(8))
        assert response.status_code == 400
        assert response.json["error"]["code"] == "card_data_not_allowed"
        assert "payment provider's hosted page" in response.json["error"]["message"]
    assert _count(PaymentEvent) == 0 and _count(IdempotencyKey) == 0
    for card in ("4242424242424242", "4000 0025 0000 3155", "4000002500003155"):
        assert card not in caplog.text


def test_buyer_personal_data_is_encrypted_at_rest(shop):
    _, sellers, api = shop
    api.create(pay.body(sellers, email="ada.lovelace@example.com"))
    row = db.session.execute(text("SELECT buyer_email_enc, buyer_name_enc FROM payment_events")).one()
    assert "ada.lovelace" not in row[0] and "Ada" not in (row[1] or "")
    assert api.get(PATH).json["data"][0]["buyer_info"] == {"email": "ada.lovelace@example.com", "name": "Ada Buyer"}


def test_idempotency_key_replays_and_refuses_a_different_body(shop):
    _, sellers, api = shop
    payload = pay.body(sellers)
    first = api.create(payload, idempotency_key="key-1")
    replay = api.create(payload, idempotency_key="key-1")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json == first.json and replay.headers["Idempotent-Replayed"] == "true"
    changed = api.create(dict(payload, success_url="https://shop.example.com/done"), idempotency_key="key-1")
    assert changed.status_code == 409 and changed.json["error"]["type"] == "idempotency_error"
    assert _count(PaymentEvent) == 1


def test_repeated_checkout_id_returns_it_or_conflicts(shop):
    _, sellers, api = shop
    payload = pay.body(sellers, checkout_id="same")
    assert api.create(payload).status_code == 201
    again = api.create(payload)
    assert again.status_code == 200 and again.json["checkout_id"] == "same"
    different = api.create(pay.body(sellers, checkout_id="same", amounts=("9.99",)))
    assert different.status_code == 409 and different.json["error"]["code"] == "checkout_id_conflict"
    assert _count(PaymentEvent) == 1


def _concurrently(url: str, key: str, payload: dict, idempotency_key: str | None, n: int = 50) -> list:
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    db.session.rollback()
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(
            pool.map(lambda _: requests.post(f"{url}{PATH}", json=payload, headers=headers, timeout=60), range(n))
        )


def test_fifty_concurrent_requests_with_one_key_create_one_payment(shop, gateway_server):
    _, sellers, api = shop
    responses = _concurrently(gateway_server, api.key, pay.body(sellers), "concurrent-key")
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    assert all(r.json()["error"]["type"] == "idempotency_error" for r in responses if r.status_code == 409)
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    assert _count(PaymentEvent) == 1 and _count(PaymentOrder) == 2


def test_fifty_concurrent_identical_requests_without_a_key_create_one_payment(shop, gateway_server):
    _, sellers, api = shop
    responses = _concurrently(gateway_server, api.key, pay.body(sellers), None)
    assert sorted({r.status_code for r in responses}) in ([201], [200, 201])
    assert len({r.json()["id"] for r in responses}) == 1
    assert _count(PaymentEvent) == 1


def test_too_many_requests_per_key_is_429_with_retry_after(app, shop):
    _, _, api = shop
    app.config["API_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    statuses = [api.get(PATH).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get(PATH)
    assert limited.json["error"]["code"] == "rate_limit" and int(limited.headers["Retry-After"]) > 0
    other = pay.Api(api.client, factories.api_key(factories.merchant()))
    assert other.get(PATH).status_code == 200  # counted per key, not per caller address


def test_a_key_left_in_flight_by_a_crashed_request_is_taken_over(shop):
    merchant, sellers, api = shop
    payload = pay.body(sellers)
    db.session.add(
        IdempotencyKey(
            merchant_id=merchant.id,
            key="crashed",
            method_path="POST /v1/payments",
            request_hash=request_hash(payload),
            created_at=utcnow() - ABANDONED_AFTER * 2,
        )
    )
    db.session.commit()
    response = api.create(payload, idempotency_key="crashed")
    assert response.status_code == 201
    assert api.create(payload, idempotency_key="crashed").headers["Idempotent-Replayed"] == "true"


def test_a_new_checkout_row_names_every_column_of_its_table(app):
    """Both ways of writing a checkout (one statement on PostgreSQL, the session's INSERTs) take the row from one
    place; a column added to payment_events must be written there too."""
    from webapp.services import payment_writes

    command = CreatePayment.from_json(pay.body([SimpleNamespace(id="sel_x")]), max_amount_minor=10**8)
    written = payment_writes._event_values("mer_x", command, utcnow())
    assert set(written) == set(PaymentEvent.__table__.columns.keys())
