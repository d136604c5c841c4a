"""Every POST of the merchant API refuses a NUL character in any string of its body with a 400 naming the field:
PostgreSQL cannot store one, so it used to fail the write as a 500."""

import pytest
from sqlalchemy import func, select

from tests.support import payments as pay
from tests.support.api_client import JsonApi
from tests.support.openapi import assert_response
from webapp.extensions import db
from webapp.models import IdempotencyKey, PaymentEvent, SellerAccount


@pytest.fixture
def shop(client):
    _, sellers, key = pay.merchant_with_sellers()
    return sellers, JsonApi(client, key)


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_nul_in_a_payment_is_a_400_naming_the_field(shop):
    sellers, api = shop
    payload = pay.body(sellers)
    payload["payment_orders"][1]["description"] = "mug\x00"
    response = api.post("/v1/payments", payload, idempotency_key="nul-1")
    error = assert_response(response, "/v1/payments", "POST")["error"]
    assert response.status_code == 400 and error["param"] == "payment_orders[1][description]"
    assert _count(PaymentEvent) == 0 and _count(IdempotencyKey) == 0


@pytest.mark.parametrize(("path", "payload", "param"), [
    ("/v1/seller_accounts", {"display_name": "A\x00", "currency": "USD", "iban": "NL91ABNA0417164300"},
     "display_name"),
    ("/v1/seller_accounts", {"display_name": "A", "currency": "USD", "iban": "NL91ABNA0417164300",
                             "payout_schedule": {"interval": "weekly", "weekly_anchor": "friday\x00"}},
     "payout_schedule[weekly_anchor]"),
    ("/v1/payouts", {"seller_account": "sel_\x00"}, "seller_account"),
    ("/v1/payments/chk_1/refunds", {"payment_order_id": "o\x00", "amount": "1.00"}, "payment_order_id"),
])
def test_nul_in_any_other_post_is_a_400_naming_the_field(shop, path, payload, param):
    _, api = shop
    response = api.post(path, payload)
    assert response.status_code == 400 and response.json["error"]["param"] == param
    assert _count(SellerAccount) == 2
