"""Card numbers are refused in every field the gateway accepts, in every encoding, and none is stored.

Every API field (ids, URLs with query strings, names, emails, descriptions), the Idempotency-Key header, query
strings and the portal's forms (seller display names, API key names) get a card number written each way a
careless client writes one; each answer is a 400 with the card-details message, and afterwards no text column of
any table holds a card number. Also: the guard's other refusals (NUL, surrogates, depth) answer 400 themselves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import g
from sqlalchemy import String, Text, select

from tests.support import payments as pay
from tests.support.forms import csrf_token, login
from webapp.domain.cards import contains_card_number
from webapp.domain.payment_requests import CARD_DATA_MESSAGE
from webapp.extensions import db
from webapp.input_guard import MAX_JSON_DEPTH
from webapp.services.demo import seed

VISA = "4242424242424242"


HEX_DIGEST = re.compile(r"[0-9a-f]{32,128}")


def _grouped(separator: str, digits: str = VISA) -> str:
    return separator.join(digits[i:i + 4] for i in range(0, len(digits), 4))


FULL_WIDTH = "".join(chr(0xFF10 + int(d)) for d in VISA)
ENCODINGS = {"plain": VISA, "dots": _grouped("."), "slashes": _grouped("/"), "underscores": _grouped("_"),
             "tabs": _grouped("\t"), "no-break spaces": _grouped("\u00a0"), "doubled spaces": _grouped("  "),
             "dashes": _grouped("-"), "spaces": _grouped(" "), "full-width": FULL_WIDTH}


@pytest.fixture
def demo(app, gateway_server):
    env_path = Path(app.instance_path) / "demo.env"
    credentials = seed(env_path, gateway_server)
    yield credentials
    env_path.unlink(missing_ok=True)


def _stored_texts() -> list[tuple[str, str, str]]:
    """(table, column, value) of every text held in every string column of every table."""
    db.session.rollback()
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        for column in columns:
            for value in db.session.scalars(select(column).where(column.is_not(None))):
                found.append((table.name, column.name, str(value)))
    return found


def _refused(response) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
    assert CARD_DATA_MESSAGE.split(":")[0] in text.replace("&#39;", "'"), text[:300]


def _api_bodies(sellers: list[str], card: str) -> dict[str, tuple[str, dict]]:
    base = pay.body([SimpleNamespace(id=s) for s in sellers])
    orders = base["payment_orders"]
    return {
        "checkout_id": ("/v1/payments", {**base, "checkout_id": f"chk-{card}"}),
        "payment_order_id": ("/v1/payments", {**base, "payment_orders": [{**orders[0],
                                                                          "payment_order_id": card}]}),
        "description": ("/v1/payments", {**base, "payment_orders": [{**orders[0], "description": f"n {card}"}]}),
        "buyer name": ("/v1/payments", {**base, "buyer_info": {"email": "b@example.com", "name": card}}),
        "buyer email": ("/v1/payments", {**base, "buyer_info": {"email": f"{card}@example.com"}}),
        "success_url": ("/v1/payments", {**base, "success_url": f"https://shop.example/ok?ref={card}"}),
        "cancel_url": ("/v1/payments", {**base, "cancel_url": f"https://shop.example/{card}/back"}),
        "seller display_name": ("/v1/seller_accounts", {"display_name": card, "email": "s@example.com",
                                                        "country": "DE", "currency": "EUR",
                                                        "iban": "DE89370400440532013000"}),
        "seller update": (f"/v1/seller_accounts/{sellers[0]}", {"display_name": f"Shop {card}"}),
        "refund order id": ("/v1/payments/pay_x/refunds", {"payment_order_id": card}),
        "payout seller": ("/v1/payouts", {"seller_account": card}),
    }


def test_card_numbers_are_refused_everywhere_and_never_stored(app, client, demo):
    for card in ENCODINGS.values():
        _push_everywhere(app, client, demo, card)
    # Hex digests the gateway computes (request hashes, lookup hashes) can hold a Luhn-valid run of digits by chance.
    hits = [(table, column) for table, column, value in _stored_texts()
            if contains_card_number(value) and not HEX_DIGEST.fullmatch(value)]
    assert hits == []


def _push_everywhere(app, client, demo, card: str) -> None:
    api = pay.Api(client, demo.api_key)
    for field, (path, body) in _api_bodies(demo.seller_ids, card).items():
        response = client.post(path, json=body, headers=api.headers())
        assert response.status_code == 400, (field, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"]["code"] == "card_data_not_allowed", field
    valid = pay.body([SimpleNamespace(id=s) for s in demo.seller_ids])
    _refused(client.post("/v1/payments", json=valid, headers=api.headers(**{"Idempotency-Key": f"k-{card}"})))
    _refused(client.get(f"/v1/payments?starting_after={card}", headers=api.headers()))
    created = client.post("/v1/payments", json=valid, headers=api.headers())
    assert created.status_code == 201  # the same request without the card number is fine
    _refused(client.get(f"/checkout/{created.get_json()['id']}?note={card}"))
    _refused(client.get(f"/checkout/{card}"))

    portal = app.test_client()
    for name in ("_login_user", "csrf_token"):  # `g` is shared by the test's requests (one app context)
        g.pop(name, None)
    assert login(portal, demo.merchant_email, demo.merchant_password).status_code == 302
    token = csrf_token(portal.get("/portal/api-keys").get_data(as_text=True))
    _refused(portal.post("/portal/api-keys", data={"name": f"key {card}", "csrf_token": token}))
    _refused(portal.post("/portal/sellers", data={"display_name": card, "iban": "DE89370400440532013000",
                                                  "currency": "EUR", "csrf_token": token}))
    _refused(portal.post(f"/portal/sellers/{demo.seller_ids[0]}/edit",
                         data={"display_name": f"x{card}", "csrf_token": token}))
    g.pop("_login_user", None)


def test_legitimate_numbers_pass_the_guard(client, demo):
    """IBANs, UUIDs, timestamps and amounts are not card numbers."""
    api = pay.Api(client, demo.api_key)
    body = pay.body([SimpleNamespace(id=s) for s in demo.seller_ids],
                    checkout_id="123e4567-e89b-12d3-a456-426614174000",
                    success_url="https://shop.example/ok?at=2026-11-30T10:57:40.123456Z&ts=1764500000000",
                    amounts=("999999.99",))
    body["payment_orders"][0]["description"] = "IBAN DE89 3704 0044 0532 0130 00, ref 1764500000000000000"
    response = client.post("/v1/payments", json=body, headers=api.headers(**{
        "Idempotency-Key": "2026-11-30T10:57:40.123456Z-123e4567-e89b-12d3-a456-426614174000"}))
    assert response.status_code == 201, response.get_data(as_text=True)


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth - 1):
        value = [value]
    return value


def test_the_guard_refuses_what_cannot_be_stored_or_parsed(client, demo):
    api = pay.Api(client, demo.api_key)
    cases = [
        client.get("/checkout/pay%00x"),
        client.get("/v1/payments?limit=1%002", headers=api.headers()),
        client.post("/v1/payments", data='{"checkout_id": "\\ud800"}', content_type="application/json",
                    headers=api.headers()),
        client.post("/v1/payments", data=json.dumps({"checkout_id": "a\u0000b"}), content_type="application/json",
                    headers=api.headers()),
        client.post("/v1/payments", data="[" * 30_000 + "]" * 30_000, content_type="application/json",
                    headers=api.headers()),
        client.post("/v1/payments", data=json.dumps(_nested(MAX_JSON_DEPTH + 2)), content_type="application/json",
                    headers=api.headers()),
        client.get("/v1/payments?limit=\uff11\uff10", headers=api.headers()),  # full-width "10"
        client.get("/v1/payments?limit=99999999999999999999999", headers=api.headers()),
        client.get("/v1/seller_accounts?limit=10%0A", headers=api.headers()),  # trailing newline
        client.get(f"/v1/seller_accounts/{demo.seller_ids[0]}%0A", headers=api.headers()),
    ]
    for index, response in enumerate(cases):
        assert response.status_code in (400, 404), (index, response.status_code, response.get_data(as_text=True))
    # Nesting within the limit is not the guard's business: the API answers for its own fields.
    within = client.post("/v1/payments", data=json.dumps({"checkout_id": _nested(MAX_JSON_DEPTH - 1)}),
                         content_type="application/json", headers=api.headers())
    assert within.status_code == 400 and "nested" not in within.get_json()["error"]["message"]
    assert "nested" in cases[5].get_json()["error"]["message"]
    assert "NUL" in cases[0].get_data(as_text=True)
