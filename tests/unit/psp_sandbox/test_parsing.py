"""Pure parts of the sandbox: Stripe's form encoding, card checks, IBANs, money formatting, signatures."""

from __future__ import annotations

import pytest
import stripe

from psp_sandbox.cards import check_form, luhn_valid
from psp_sandbox.errors import StripeError
from psp_sandbox.money import major
from psp_sandbox.params import decode
from psp_sandbox.resources.external_accounts import FAILURES_BY_BBAN, PLATFORM_IBAN, german_test_iban, iban_valid
from psp_sandbox.webhooks import signature_header


def test_decode_brackets_lists_and_empty_indexes():
    pairs = [("line_items[0][price_data][currency]", "eur"), ("line_items[1][quantity]", "2"),
             ("line_items[0][quantity]", "1"), ("expand[]", "a"), ("expand[]", "b"), ("metadata[k]", "v"),
             ("types[0]", "x")]
    assert decode(pairs) == {
        "line_items": [{"price_data": {"currency": "eur"}, "quantity": "1"}, {"quantity": "2"}],
        "expand": ["a", "b"], "metadata": {"k": "v"}, "types": ["x"],
    }


def test_decode_refuses_a_value_and_keys_under_one_name():
    with pytest.raises(StripeError):
        decode([("a", "1"), ("a[b]", "2")])


def test_card_checks_keep_no_number():
    card, errors = check_form("4242 4242 4242 4242", "12/34", "123", "Ada", (2026, 11))
    assert errors == {}
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2034)
    assert "4242424242424242" not in repr(card)
    assert not luhn_valid("4242424242424241")
    _, errors = check_form("378282246310005", "13/30", "123", "", (2026, 11))
    assert set(errors) == {"expiry", "cvc", "name"}, "Amex needs 4 digits; month 13 is no month"


def test_test_ibans_are_valid_ibans():
    assert iban_valid(PLATFORM_IBAN)
    assert all(iban_valid(german_test_iban(bban[-3:])) for bban in FAILURES_BY_BBAN)
    assert german_test_iban("000") == PLATFORM_IBAN and german_test_iban("001") == "DE62370400440532013001"
    assert not iban_valid("DE00370400440532013000")


@pytest.mark.parametrize(("amount", "currency", "text"), [(2500, "eur", "25.00"), (-5, "eur", "-0.05"),
                                                           (100, "jpy", "100"), (1234, "kwd", "1.234")])
def test_major_units(amount, currency, text):
    assert major(amount, currency) == text


def test_signature_is_what_the_sdk_verifies():
    body = b'{"id": "evt_1", "object": "event", "type": "x", "data": {"object": {}}}'
    header = signature_header("whsec_abc", body)
    event = stripe.Webhook.construct_event(body.decode(), header, "whsec_abc")
    assert event.id == "evt_1"
