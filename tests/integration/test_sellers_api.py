"""The seller-account API: create, list, read, update and balances; strict validation, idempotency keys and
tenant isolation, on both databases, against the sandbox PSP for onboarding."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from tests.support.api_client import JsonApi
from tests.support.openapi import assert_response
from webapp.extensions import db
from webapp.models import IdempotencyKey, OutboxMessage, SellerAccount

PATH = "/v1/seller_accounts"
ONE = "/v1/seller_accounts/{id}"
IBAN = "DE89 3704 0044 0532 0130 00"


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def body(**extra) -> dict:
    return {"display_name": "Ada's Pottery", "email": "ada@pottery.example.com", "country": "DE", "currency": "EUR",
            "iban": IBAN, **extra}


@pytest.fixture
def api(client):
    return JsonApi(client, factories.api_key(factories.merchant()))


def test_create_get_list_and_update_match_the_openapi_document(api):
    created = api.post(PATH, body(payout_schedule={"interval": "weekly", "weekly_anchor": "Friday", "delay_days": 2},
                                  minimum_payout_amount="25.50"))
    seller = assert_response(created, PATH, "POST")
    assert created.status_code == 201
    assert seller["id"].startswith("sel_") and seller["object"] == "seller_account"
    assert (seller["status"], seller["payouts_enabled"], seller["payouts_paused_reason"]) == ("onboarding", False,
                                                                                           "onboarding")
    assert seller["bank_account"] == {"last4": "3000", "status": "pending"}
    assert seller["payout_schedule"] == {"interval": "weekly", "weekly_anchor": "friday", "monthly_anchor": None,
                                         "delay_days": 2}
    assert (seller["minimum_payout_amount"], seller["currency"], seller["country"]) == ("25.50", "EUR", "DE")
    assert seller["requirements_due"] == []

    assert assert_response(api.get(f"{PATH}/{seller['id']}"), ONE) == seller
    listed = assert_response(api.get(PATH), PATH)
    assert listed["object"] == "list" and [s["id"] for s in listed["data"]] == [seller["id"]]

    updated = api.post(f"{PATH}/{seller['id']}", {"display_name": "  Ada   Pottery ", "minimum_payout_amount": "0",
                                                  "payout_schedule": {"interval": "monthly", "monthly_anchor": 31}})
    changed = assert_response(updated, ONE, "POST")
    assert updated.status_code == 200 and changed["display_name"] == "Ada Pottery"
    assert changed["payout_schedule"] == {"interval": "monthly", "weekly_anchor": None, "monthly_anchor": 31,
                                          "delay_days": 0}
    assert changed["minimum_payout_amount"] == "0.00" and changed["email"] == seller["email"]
    assert assert_response(api.get(f"{PATH}/{seller['id']}"), ONE) == changed


def test_onboarding_at_the_psp_shows_in_the_account(api):
    seller = api.post(PATH, body(minimum_payout_amount="10.00")).json
    pay.wait_until(lambda: (po.drain_payouts(), db.session.get(SellerAccount, seller["id"]).psp_account_id)[1],
                   what="seller onboarded at the PSP")
    found = assert_response(api.get(f"{PATH}/{seller['id']}"), ONE)
    assert (found["status"], found["payouts_enabled"], found["bank_account"]["status"]) == ("active", True, "active")
    assert found["payouts_paused_reason"] == "below_minimum"  # nothing available yet, and a minimum of 10.00
    no_minimum = api.post(f"{PATH}/{seller['id']}", {"minimum_payout_amount": "0"}).json
    assert no_minimum["payouts_paused_reason"] is None

    replaced = assert_response(api.post(f"{PATH}/{seller['id']}", {"iban": "NL91 ABNA 0417 1643 00"}), ONE, "POST")
    assert replaced["bank_account"] == {"last4": "4300", "status": "pending"}
    pay.wait_until(lambda: (po.drain_payouts(), db.session.get(SellerAccount, seller["id"]).bank_account_status
                            == "active")[1], what="bank account replaced at the PSP")
    assert api.get(f"{PATH}/{seller['id']}").json["bank_account"] == {"last4": "4300", "status": "active"}


def test_a_seller_the_merchant_disabled_shows_disabled(api):
    seller = api.post(PATH, body()).json
    from webapp.models import Merchant
    from webapp.services import sellers

    record = db.session.get(SellerAccount, seller["id"])
    sellers.set_status(db.session.get(Merchant, record.merchant_id), seller["id"], "disabled")
    assert assert_response(api.get(f"{PATH}/{seller['id']}"), ONE)["status"] == "disabled"


BAD_CREATES = [
    ("unknown field", lambda b: b.update(nickname="x"), "nickname", "parameter_unknown"),
    ("missing name", lambda b: b.pop("display_name"), "display_name", "parameter_missing"),
    ("blank name", lambda b: b.update(display_name="   "), "display_name", "parameter_missing"),
    ("long name", lambda b: b.update(display_name="x" * 201), "display_name", "parameter_invalid"),
    ("missing iban", lambda b: b.pop("iban"), "iban", "parameter_missing"),
    ("bad iban checksum", lambda b: b.update(iban="DE89370400440532013001"), "iban", "iban_invalid"),
    ("iban as number", lambda b: b.update(iban=12345), "iban", "parameter_missing"),
    ("bad currency", lambda b: b.update(currency="XYZ"), "currency", "currency_invalid"),
    ("bad email", lambda b: b.update(email="not-an-email"), "email", "parameter_invalid"),
    ("bad country", lambda b: b.update(country="DEU"), "country", "parameter_invalid"),
    ("bad interval", lambda b: b.update(payout_schedule={"interval": "hourly"}), "payout_schedule[interval]",
     "parameter_invalid"),
    ("weekly without anchor", lambda b: b.update(payout_schedule={"interval": "weekly"}),
     "payout_schedule[weekly_anchor]", "parameter_invalid"),
    ("monthly anchor 32", lambda b: b.update(payout_schedule={"interval": "monthly", "monthly_anchor": 32}),
     "payout_schedule[monthly_anchor]", "parameter_invalid"),
    ("negative delay", lambda b: b.update(payout_schedule={"interval": "daily", "delay_days": -1}),
     "payout_schedule[delay_days]", "parameter_invalid"),
    ("unknown schedule field", lambda b: b.update(payout_schedule={"interval": "daily", "hour": 3}),
     "payout_schedule[hour]", "parameter_unknown"),
    ("schedule not an object", lambda b: b.update(payout_schedule="daily"), "payout_schedule", "parameter_invalid"),
    ("minimum as number", lambda b: b.update(minimum_payout_amount=10), "minimum_payout_amount", "amount_invalid"),
    ("minimum negative", lambda b: b.update(minimum_payout_amount="-1.00"), "minimum_payout_amount",
     "amount_invalid"),
    ("minimum 3 decimals", lambda b: b.update(minimum_payout_amount="1.001"), "minimum_payout_amount",
     "amount_invalid"),
    ("minimum too large", lambda b: b.update(currency="KWD", minimum_payout_amount="9999999999999999.999"),
     "minimum_payout_amount", "amount_invalid"),
    ("NUL in a name", lambda b: b.update(display_name="Ada\x00"), "display_name", "parameter_invalid"),
]


@pytest.mark.parametrize(("mutate", "param", "code"), [c[1:] for c in BAD_CREATES], ids=[c[0] for c in BAD_CREATES])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, mutate, param, code):
    payload = body()
    mutate(payload)
    response = api.post(PATH, payload, idempotency_key=secrets.token_hex(8))
    assert response.status_code == 400, response.json
    error = assert_response(response, PATH, "POST")["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert _count(SellerAccount) == 0 and _count(IdempotencyKey) == 0 and _count(OutboxMessage) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"', b"null"])
def test_body_must_be_a_json_object(api, raw):
    response = api.client.post(PATH, data=raw, headers=api.headers(**{"Content-Type": "application/json"}))
    assert response.status_code == 400 and assert_response(response, PATH, "POST")["error"]["type"] == \
        "invalid_request_error"
    assert _count(SellerAccount) == 0


def test_bad_updates_are_400s_and_change_nothing(api):
    seller = api.post(PATH, body()).json
    url = f"{PATH}/{seller['id']}"
    for payload, param, code in [({"currency": "USD"}, "currency", "parameter_unknown"),
                                 ({"iban": "GB00WEST12345698765432"}, "iban", "iban_invalid"),
                                 ({"display_name": None}, "display_name", "parameter_missing"),
                                 ({"minimum_payout_amount": "1.234"}, "minimum_payout_amount", "amount_invalid"),
                                 ({"payout_schedule": {"interval": "weekly", "weekly_anchor": "someday"}},
                                  "payout_schedule[weekly_anchor]", "parameter_invalid")]:
        response = api.post(url, {"display_name": "Changed", **payload}, idempotency_key=secrets.token_hex(8))
        assert response.status_code == 400, (payload, response.json)
        error = assert_response(response, ONE, "POST")["error"]
        assert (error["param"], error["code"]) == (param, code)
    assert api.get(url).json == seller and _count(IdempotencyKey) == 0


def test_an_iban_used_by_another_seller_of_the_merchant_is_409(api):
    first = api.post(PATH, body()).json
    again = api.post(PATH, body(display_name="Someone else", iban=IBAN.replace(" ", "")))
    error = assert_response(again, PATH, "POST")["error"]
    assert again.status_code == 409 and (error["code"], error["param"]) == ("iban_already_used", "iban")
    second = api.post(PATH, body(display_name="Bob", iban="NL91ABNA0417164300")).json
    moved = api.post(f"{PATH}/{second['id']}", {"iban": IBAN})
    assert moved.status_code == 409 and moved.json["error"]["code"] == "iban_already_used"
    assert _count(SellerAccount) == 2 and api.get(f"{PATH}/{first['id']}").json == first


def test_idempotency_key_replays_and_refuses_a_different_body(api):
    first = api.post(PATH, body(), idempotency_key="seller-1")
    replay = api.post(PATH, body(), idempotency_key="seller-1")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json == first.json and replay.headers["Idempotent-Replayed"] == "true"
    changed = api.post(PATH, body(display_name="Other"), idempotency_key="seller-1")
    assert changed.status_code == 409 and assert_response(changed, PATH, "POST")["error"]["type"] == \
        "idempotency_error"
    elsewhere = api.post(f"{PATH}/{first.json['id']}", {"display_name": "Ada"}, idempotency_key="seller-1")
    assert elsewhere.status_code == 409 and elsewhere.json["error"]["code"] == "idempotency_error"
    assert _count(SellerAccount) == 1

    url = f"{PATH}/{first.json['id']}"
    renamed = api.post(url, {"display_name": "Renamed"}, idempotency_key="rename-1")
    api.post(url, {"display_name": "Renamed again"})
    replayed = api.post(url, {"display_name": "Renamed"}, idempotency_key="rename-1")
    assert replayed.json == renamed.json and replayed.headers["Idempotent-Replayed"] == "true"
    assert api.get(url).json["display_name"] == "Renamed again"  # the replay wrote nothing


def test_a_refused_request_frees_its_key_for_the_corrected_one(api):
    refused = api.post(PATH, body(iban="DE00"), idempotency_key="fix-me")
    assert refused.status_code == 400
    fixed = api.post(PATH, body(), idempotency_key="fix-me")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_list_is_paginated_newest_first(api):
    ids = [api.post(PATH, body(display_name=f"Seller {i}", iban=iban)).json["id"]
           for i, iban in enumerate(factories.IBANS)]
    first = assert_response(api.get(f"{PATH}?limit=3"), PATH)
    assert [s["id"] for s in first["data"]] == ids[::-1][:3] and first["has_more"]
    second = assert_response(api.get(f"{PATH}?limit=3&starting_after={first['data'][-1]['id']}"), PATH)
    assert [s["id"] for s in second["data"]] == [ids[0]] and not second["has_more"]


@pytest.mark.parametrize(("query", "param", "code"), [
    ("limit=0", "limit", "parameter_invalid"), ("limit=101", "limit", "parameter_invalid"),
    ("limit=ten", "limit", "parameter_invalid"), ("starting_after=sel_nope", "starting_after", "resource_missing"),
    ("sort=name", "sort", "parameter_unknown"), ("limit=1&limit=2", "limit", "parameter_invalid"),
])
def test_bad_list_parameters_are_400s(api, query, param, code):
    response = api.get(f"{PATH}?{query}")
    assert response.status_code == 400
    error = assert_response(response, PATH)["error"]
    assert (error["param"], error["code"]) == (param, code)


def test_another_merchants_sellers_look_missing(api, client):
    seller = api.post(PATH, body()).json
    other = JsonApi(client, factories.api_key(factories.merchant()))
    for path in (f"{PATH}/{seller['id']}", f"{PATH}/{seller['id']}/balance"):
        response = other.get(path)
        assert response.status_code == 404 and response.json["error"]["code"] == "resource_missing"
    updated = other.post(f"{PATH}/{seller['id']}", {"display_name": "Hijacked"})
    assert assert_response(updated, ONE, "POST")["error"]["code"] == "resource_missing" and updated.status_code == 404
    assert other.get(PATH).json["data"] == []
    assert other.get(f"{PATH}?starting_after={seller['id']}").status_code == 400
    assert api.get(f"{PATH}/{seller['id']}").json == seller
    # The same IBAN is free for another merchant's own seller.
    assert other.post(PATH, body()).status_code == 201


@pytest.mark.parametrize("seller_id", ["sel_missing", "a%00b", "x" * 300, "sel_%E2%82%AC"])
def test_malformed_or_unknown_ids_are_404s(api, seller_id):
    for path in (f"{PATH}/{seller_id}", f"{PATH}/{seller_id}/balance"):
        response = api.get(path)
        assert response.status_code == 404 and assert_response(response, ONE)["error"]["code"] == "resource_missing"
    assert api.post(f"{PATH}/{seller_id}", {"display_name": "x"}).status_code == 404


def test_balance_per_currency_from_a_paid_checkout(api, client, gateway_psp):
    seller = api.post(PATH, body(currency="USD")).json
    empty = assert_response(api.get(f"{PATH}/{seller['id']}/balance"), f"{ONE}/balance")
    zero = [{"amount": "0.00", "currency": "USD"}]
    assert empty == {"object": "seller_balance", "seller_account": seller["id"], "pending": zero, "available": zero,
                     "in_transit": zero}
    record = db.session.get(SellerAccount, seller["id"])
    books.paid_checkout(client, api, [record], gateway_psp.url, amounts=("12.00",))
    pending, available = books.wallet(seller["id"])
    balance = assert_response(api.get(f"{PATH}/{seller['id']}/balance"), f"{ONE}/balance")
    assert balance["pending"] == [{"amount": f"{pending / 100:.2f}", "currency": "USD"}] and pending > 0
    assert balance["available"] == [{"amount": f"{available / 100:.2f}", "currency": "USD"}]


def test_concurrent_creates_with_one_iban_make_one_seller_and_no_500(api, gateway_server):
    """Requests racing past the service's IBAN check meet the database's unique constraint: a 409, never a 500."""
    headers = {"Authorization": f"Bearer {api.key}"}
    db.session.rollback()
    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda i: requests.post(f"{gateway_server}{PATH}", headers=headers, timeout=60,
                                                          json=body(display_name=f"Seller {i}")), range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 11, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"iban_already_used"}
    assert _count(SellerAccount) == 1


def test_concurrent_requests_with_one_key_create_one_seller(api, gateway_server):
    headers = {"Authorization": f"Bearer {api.key}", "Idempotency-Key": "race"}
    db.session.rollback()
    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda _: requests.post(f"{gateway_server}{PATH}", headers=headers, json=body(),
                                                          timeout=60), range(12)))
    created = [r for r in responses if r.status_code == 201]
    assert created and all(r.status_code in (201, 409) for r in responses), [r.status_code for r in responses]
    assert len({r.json()["id"] for r in created}) == 1 and _count(SellerAccount) == 1
