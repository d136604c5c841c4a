"""Parsing POST /v1/payments bodies into commands, without a database."""

import json

import pytest

from webapp.domain.cards import contains_card_number, find_card_data, luhn_valid
from webapp.domain.errors import ValidationError
from webapp.domain.payment_requests import CardDataRefused, CreatePayment, request_hash


def _body(**changes):
    body = {
        "checkout_id": "c-1",
        "buyer_info": {"email": "Buyer@Example.com", "name": " Ada "},
        "payment_orders": [
            {"payment_order_id": "o-1", "seller_account": "sel_a", "amount": "3.15", "currency": "usd"},
            {"payment_order_id": "o-2", "seller_account": "sel_b", "amount": "2", "currency": "USD"},
        ],
    }
    body.update(changes)
    return body


def test_parses_a_valid_body():
    command = CreatePayment.from_json(_body(), max_amount_minor=10_000)
    assert command.total.minor == 515 and command.currency == "USD"
    assert command.buyer_email == "Buyer@example.com" and command.buyer_name == "Ada"
    assert [o.amount.minor for o in command.orders] == [315, 200]


def test_request_hash_ignores_key_order():
    body = _body()
    assert request_hash(body) == request_hash(dict(reversed(list(body.items()))))
    assert request_hash(body) != request_hash(_body(checkout_id="c-2"))


def test_total_above_the_maximum_is_refused():
    with pytest.raises(ValidationError) as info:
        CreatePayment.from_json(_body(), max_amount_minor=500)
    assert info.value.param == "payment_orders" and info.value.code == "amount_too_large"


@pytest.mark.parametrize("document", [None, [], "x", 3])
def test_body_must_be_an_object(document):
    with pytest.raises(ValidationError):
        CreatePayment.from_json(document, max_amount_minor=10_000)


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (_body(credit_card_info={"exp": "12/30"}), "credit_card_info"),
        (_body(buyer_info={"email": "a@example.com", "name": "4242 4242 4242 4242"}), "buyer_info.name"),
        (_body(checkout_id="4000002500003155"), "checkout_id"),
    ],
)
def test_card_data_is_refused_naming_where_it_was(document, path):
    with pytest.raises(CardDataRefused) as info:
        CreatePayment.from_json(document, max_amount_minor=10_000)
    assert info.value.param == path and "4242" not in info.value.message


def test_card_detection_needs_a_luhn_valid_number():
    assert luhn_valid("4242424242424242") and not luhn_valid("4242424242424241")
    assert contains_card_number("pay 5555-5555-5555-4444 now")
    assert not contains_card_number("order 1234567890123 and 2026-11-24")  # 13 digits, Luhn-invalid
    assert find_card_data({"orders": [{"amount": "3.15", "payment_order_id": "abc"}]}) is None


@pytest.mark.parametrize(
    "text",
    ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242", "3782 822463 10005", "card: 5555555555554444."],
)
def test_card_shaped_numbers_are_found(text):
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "bench-1-12-538223499",
        "2026-11-24-000123",
        "order 4242 4242 4242 4241",
        "1234567812345670",
    ],
)
def test_identifiers_and_invalid_numbers_are_not_cards(text):
    assert not contains_card_number(text)


def test_card_data_is_found_at_any_depth_and_named_by_its_path():
    assert find_card_data({"a": [1, "x", {"b": ["ok", "4242424242424242"]}]}) == "a[2].b[1]"
    assert find_card_data({"orders": [{"Card": {"exp": "12/30"}}]}) == "orders[0].Card"
    assert find_card_data(["4242424242424242"]) == "[0]"
    assert find_card_data({"n": 4242424242424242}) == "n"


def test_a_card_number_sent_as_a_json_number_is_found():
    assert find_card_data(json.loads('{"note": 4242424242424242.0}')) == "note"
    assert find_card_data(json.loads('{"amex": 378282246310005}')) == "amex"


def test_values_that_merely_name_cards_are_not_card_data():
    """Field names such as "card" are refused; the same words as values (a payment method) are not."""
    assert find_card_data({"payment_method": "card", "note": "pan", "flag": True, "none": None}) is None


@pytest.mark.parametrize(("text", "found"), [
    ("4222222222222", True),  # 13 digits: the shortest card number
    ("422222222222226", True),  # 15 digits
    ("4000000000000000006", True),  # 19 digits: the longest
    ("4000 0000 0000 0000 006", True),  # 19 digits in groups of four
    ("1234567890128", False),  # 13 digits, Luhn-valid, but no card network starts with 1
    ("7000000000000000003", False),  # nor with 7
    ("42222222222226", True),  # 14 digits
])
def test_card_number_lengths_and_network_prefixes(text, found):
    assert luhn_valid("".join(c for c in text if c.isdigit()))  # each one passes the checksum
    assert contains_card_number(text) is found


@pytest.mark.parametrize("text", ["6011 1111 1111 1117", "2223003122003222", "3056 930902 5904",
                                  "pan 3566002020360505"])
def test_every_card_network_is_recognised(text):
    """Discover/UnionPay (6), Mastercard's 2-series, Diners (4-6-4 groups) and JCB (3)."""
    assert contains_card_number(text)


@pytest.mark.parametrize("name", ["credit_card_info", "card", "card_number", "cardnumber", "pan", "cvc", "cvv",
                                  "card_details", "payment_card", "CVC"])
def test_fields_named_after_card_data_are_refused_whatever_they_hold(name):
    assert find_card_data({"buyer": {name: ""}}) == f"buyer.{name}"
