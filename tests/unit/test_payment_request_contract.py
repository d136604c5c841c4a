"""POST /v1/payments bodies: every refusal's code, param and message (the API's error contract), the limits at
their boundaries, and what a valid body turns into."""

from __future__ import annotations

import hashlib

import pytest

from webapp.domain.errors import InvalidMoney, UnknownCurrency, ValidationError
from webapp.domain.payment_requests import MAX_ORDERS, CardDataRefused, CreatePayment, request_hash

DROP = object()  # a field left out of the body
MAX = 10_000


def _order(index: int = 0, **fields) -> dict:
    order = {"payment_order_id": f"o-{index + 1}", "seller_account": "sel_a", "amount": "3.15", "currency": "USD"}
    order.update(fields)
    return {k: v for k, v in order.items() if v is not DROP}


def _body(*orders: dict, **fields) -> dict:
    body = {"checkout_id": "c-1", "buyer_info": {"email": "buyer@example.com", "name": "Ada"},
            "payment_orders": list(orders) or [_order()]}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not DROP}


def _buyer(**fields) -> dict:
    buyer = {"email": "buyer@example.com", "name": "Ada"}
    buyer.update(fields)
    return _body(buyer_info={k: v for k, v in buyer.items() if v is not DROP})


def _parse(document: object, max_amount: int = MAX) -> CreatePayment:
    return CreatePayment.from_json(document, max_amount_minor=max_amount)


def _refusal(document: object, max_amount: int = MAX) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        _parse(document, max_amount)
    return raised.value


P0 = "payment_orders[0]"
ID_RULE = "must be 1-255 characters of letters, digits, '.', '_', ':' or '-'."
REFUSALS = [  # (body, error class, code, param, message)
    (None, ValidationError, "parameter_invalid", None, "The request body must be a JSON object."),
    ([_body()], ValidationError, "parameter_invalid", None, "The request body must be a JSON object."),
    (_body(extra=1), ValidationError, "parameter_unknown", "extra", "Received unknown parameter: extra."),
    (_body(checkout_id=DROP), ValidationError, "parameter_missing", "checkout_id",
     "Missing required param: checkout_id."),
    (_body(checkout_id=""), ValidationError, "parameter_missing", "checkout_id",
     "Missing required param: checkout_id."),
    (_body(checkout_id="c 1"), ValidationError, "parameter_invalid", "checkout_id", f"checkout_id {ID_RULE}"),
    (_body(checkout_id=7), ValidationError, "parameter_invalid", "checkout_id", f"checkout_id {ID_RULE}"),
    (_body(checkout_id="c" * 256), ValidationError, "parameter_invalid", "checkout_id", f"checkout_id {ID_RULE}"),
    # buyer_info
    (_body(buyer_info=DROP), ValidationError, "parameter_missing", "buyer_info",
     "Missing required param: buyer_info."),
    (_body(buyer_info="buyer@example.com"), ValidationError, "parameter_invalid", "buyer_info",
     "buyer_info must be an object with email and name."),
    (_buyer(phone="1"), ValidationError, "parameter_unknown", "buyer_info[phone]",
     "Received unknown parameter: buyer_info[phone]."),
    (_buyer(email=DROP), ValidationError, "parameter_missing", "buyer_info[email]",
     "Missing required param: buyer_info[email]."),
    (_buyer(email=""), ValidationError, "parameter_missing", "buyer_info[email]",
     "Missing required param: buyer_info[email]."),
    (_buyer(email=["buyer@example.com"]), ValidationError, "parameter_invalid", "buyer_info[email]",
     "buyer_info[email] must be an email address."),
    (_buyer(email="a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 58]) + ".com"),  # 255 characters
     ValidationError, "parameter_invalid", "buyer_info[email]", "buyer_info[email] must be an email address."),
    (_buyer(name=5), ValidationError, "parameter_invalid", "buyer_info[name]",
     "buyer_info[name] must be a string of at most 200 characters."),
    (_buyer(name="n" * 201), ValidationError, "parameter_invalid", "buyer_info[name]",
     "buyer_info[name] must be a string of at most 200 characters."),
    # payment_orders
    (_body(payment_orders=DROP), ValidationError, "parameter_missing", "payment_orders",
     "Missing required param: payment_orders."),
    (_body(payment_orders=[]), ValidationError, "parameter_invalid", "payment_orders",
     "payment_orders must be a non-empty list."),
    (_body(payment_orders={"o-1": _order()}), ValidationError, "parameter_invalid", "payment_orders",
     "payment_orders must be a non-empty list."),
    (_body(*[_order(i) for i in range(101)]), ValidationError, "parameter_invalid", "payment_orders",
     "A checkout holds at most 100 payment orders; got 101."),
    (_body(payment_orders=["o-1"]), ValidationError, "parameter_invalid", P0, f"{P0} must be an object."),
    (_body(_order(), _order(1, colour="red")), ValidationError, "parameter_unknown", "payment_orders[1][colour]",
     "Received unknown parameter: payment_orders[1][colour]."),
    (_body(_order(payment_order_id=DROP)), ValidationError, "parameter_missing", f"{P0}[payment_order_id]",
     f"Missing required param: {P0}[payment_order_id]."),
    (_body(_order(payment_order_id="o/1")), ValidationError, "parameter_invalid", f"{P0}[payment_order_id]",
     f"{P0}[payment_order_id] {ID_RULE}"),
    (_body(_order(seller_account=DROP)), ValidationError, "parameter_missing", f"{P0}[seller_account]",
     f"Missing required param: {P0}[seller_account]."),
    (_body(_order(seller_account="")), ValidationError, "parameter_missing", f"{P0}[seller_account]",
     f"Missing required param: {P0}[seller_account]."),
    (_body(_order(seller_account=12)), ValidationError, "parameter_invalid", f"{P0}[seller_account]",
     "seller_account must be a seller account id or IBAN."),
    (_body(_order(seller_account="s" * 65)), ValidationError, "parameter_invalid", f"{P0}[seller_account]",
     "seller_account must be a seller account id or IBAN."),
    (_body(_order(currency=DROP)), ValidationError, "parameter_missing", f"{P0}[currency]",
     f"Missing required param: {P0}[currency]."),
    (_body(_order(currency="")), ValidationError, "parameter_missing", f"{P0}[currency]",
     f"Missing required param: {P0}[currency]."),
    (_body(_order(currency="XXX")), UnknownCurrency, "currency_invalid", f"{P0}[currency]",
     "Unsupported currency: 'XXX'."),
    (_body(_order(amount=DROP)), ValidationError, "parameter_missing", f"{P0}[amount]",
     f"Missing required param: {P0}[amount]."),
    (_body(_order(amount="")), ValidationError, "parameter_missing", f"{P0}[amount]",
     f"Missing required param: {P0}[amount]."),
    (_body(_order(amount=3.15)), InvalidMoney, "amount_invalid", f"{P0}[amount]",
     "Amount must be a decimal string such as \"3.15\"."),
    (_body(_order(amount="3,15")), InvalidMoney, "amount_invalid", f"{P0}[amount]",
     "Amount '3,15' is not a positive decimal number."),
    (_body(_order(amount="0")), ValidationError, "amount_too_small", f"{P0}[amount]",
     "Amount must be greater than zero."),
    (_body(_order(amount="0.00")), ValidationError, "amount_too_small", f"{P0}[amount]",
     "Amount must be greater than zero."),
    (_body(_order(amount="100.01")), ValidationError, "amount_too_large", f"{P0}[amount]",
     "Amount is above the maximum of 100.00."),
    (_body(_order(description=5)), ValidationError, "parameter_invalid", f"{P0}[description]",
     "description must be a string of at most 250 characters."),
    (_body(_order(description="d" * 251)), ValidationError, "parameter_invalid", f"{P0}[description]",
     "description must be a string of at most 250 characters."),
    # across orders
    (_body(_order(0), _order(1, payment_order_id="o-1")), ValidationError, "parameter_invalid",
     "payment_orders[1][payment_order_id]", "Duplicate payment_order_id 'o-1'."),
    (_body(_order(0), _order(1, currency="EUR"), _order(2, currency="EUR")), ValidationError, "currency_mismatch",
     "payment_orders[1][currency]", "All payment orders of a checkout must use the same currency."),
    (_body(_order(0, amount="60"), _order(1, amount="40.01")), ValidationError, "amount_too_large",
     "payment_orders", "The checkout total is above the maximum amount allowed."),
    # redirect URLs
    (_body(success_url="ftp://shop.example/ok"), ValidationError, "url_invalid", "success_url",
     "success_url must be an absolute http(s) URL."),
    (_body(success_url="/thanks"), ValidationError, "url_invalid", "success_url",
     "success_url must be an absolute http(s) URL."),
    (_body(success_url="https://"), ValidationError, "url_invalid", "success_url",
     "success_url must be an absolute http(s) URL."),
    (_body(success_url=["https://shop.example"]), ValidationError, "parameter_invalid", "success_url",
     "success_url must be an http(s) URL."),
    (_body(success_url="https://shop.example/" + "x" * 2028), ValidationError, "parameter_invalid", "success_url",
     "success_url must be an http(s) URL."),
    (_body(cancel_url="mailto:shop@example.com"), ValidationError, "url_invalid", "cancel_url",
     "cancel_url must be an absolute http(s) URL."),
    (_body(cancel_url=42), ValidationError, "parameter_invalid", "cancel_url", "cancel_url must be an http(s) URL."),
]


@pytest.mark.parametrize(("document", "error", "code", "param", "message"), REFUSALS)
def test_every_refusal_names_its_code_param_and_reason(document, error, code, param, message):
    refusal = _refusal(document)
    assert type(refusal) is error
    assert (refusal.code, refusal.param, refusal.message) == (code, param, message)
    assert refusal.http_status == 400


def test_a_malformed_email_is_refused_with_the_validators_reason():
    refusal = _refusal(_buyer(email="not-an-email"))
    assert (refusal.code, refusal.param) == ("parameter_invalid", "buyer_info[email]")
    assert refusal.message.startswith("Invalid email address: ") and len(refusal.message) > 25


def test_card_data_is_refused_with_the_whole_explanation():
    refusal = _refusal(_body(_order(description="card 4242 4242 4242 4242")))
    assert type(refusal) is CardDataRefused and refusal.code == "card_data_not_allowed"
    assert refusal.param == "payment_orders[0].description"
    assert refusal.message == (
        "Card details must not be sent to this API: the buyer enters them only on the payment provider's hosted "
        "page. Remove the card data and send the buyer to checkout_url.")


def test_limits_are_inclusive():
    """Each maximum is the largest value accepted, not the first refused."""
    longest_email = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 57]) + ".com"
    assert len(longest_email) == 254
    assert _parse(_buyer(email=longest_email)).buyer_email == longest_email
    assert _parse(_buyer(name="n" * 200)).buyer_name == "n" * 200
    assert _parse(_body(checkout_id="c" * 255)).checkout_id == "c" * 255
    command = _parse(_body(_order(seller_account="s" * 64, description="d" * 250)))
    assert command.orders[0].seller_ref == "s" * 64 and command.orders[0].description == "d" * 250
    url = "https://shop.example/" + "x" * 2027
    assert len(url) == 2048 and _parse(_body(success_url=url)).success_url == url
    many = _parse(_body(*[_order(i, amount="1") for i in range(100)]))
    assert len(many.orders) == 100 == MAX_ORDERS and many.total.minor == 10_000


def test_the_smallest_amount_and_the_maximum_are_accepted():
    assert _parse(_body(_order(amount="0.01"))).total.minor == 1
    at_maximum = _parse(_body(_order(amount="100")))  # one order of exactly the maximum
    assert at_maximum.total.minor == MAX
    split = _parse(_body(_order(0, amount="60"), _order(1, amount="40")))  # a checkout total of exactly the maximum
    assert split.total.minor == MAX


def test_a_single_order_above_the_maximum_names_that_order_and_the_maximum_in_its_currency():
    refusal = _refusal(_body(_order(0, amount="1"), _order(1, amount="1501", currency="JPY"),
                             _order(2, amount="1", currency="JPY")), max_amount=1500)
    assert (refusal.code, refusal.param) == ("amount_too_large", "payment_orders[1][amount]")
    assert refusal.message == "Amount is above the maximum of 1500."


def test_a_valid_body_keeps_every_field():
    command = _parse(_body(_order(0, description="Blue mug", seller_account="DE89370400440532013000", amount="3.15"),
                           _order(1, amount="2", currency="usd", description=DROP),
                           success_url="https://shop.example/ok", cancel_url="http://shop.example/cancel",
                           buyer_info={"email": "Buyer@Example.COM", "name": "  "}))
    assert command.checkout_id == "c-1"
    assert _parse(_body(checkout_id="shop:2026.11_c-1")).checkout_id == "shop:2026.11_c-1"
    assert command.buyer_email == "Buyer@example.com" and command.buyer_name is None  # blank name: none given
    assert [(o.payment_order_id, o.seller_ref, o.amount.minor, o.amount.currency, o.description)
            for o in command.orders] == [("o-1", "DE89370400440532013000", 315, "USD", "Blue mug"),
                                         ("o-2", "sel_a", 200, "USD", None)]
    assert (command.success_url, command.cancel_url) == ("https://shop.example/ok", "http://shop.example/cancel")
    assert command.request_hash == request_hash(_body(
        _order(0, description="Blue mug", seller_account="DE89370400440532013000", amount="3.15"),
        _order(1, amount="2", currency="usd", description=DROP), success_url="https://shop.example/ok",
        cancel_url="http://shop.example/cancel", buyer_info={"email": "Buyer@Example.COM", "name": "  "}))
    no_buyer_name = _parse(_buyer(name=DROP))
    assert no_buyer_name.buyer_name is None
    assert (no_buyer_name.success_url, no_buyer_name.cancel_url) == (None, None)
    assert _parse(_body(success_url="", cancel_url=None)).success_url is None


def test_the_request_hash_is_stable_across_releases():
    """Stored hashes decide whether a replayed Idempotency-Key carries the same request: the canonical form
    (sorted keys, no whitespace, UTF-8 as is) must not change, or replays after an upgrade would be refused."""
    document = {"b": ["é", 1], "a": {"y": None, "x": "3.15"}}
    canonical = '{"a":{"x":"3.15","y":null},"b":["é",1]}'
    assert request_hash(document) == hashlib.sha256(canonical.encode()).hexdigest()
