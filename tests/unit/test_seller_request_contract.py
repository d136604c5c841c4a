"""Seller-account requests (`POST /v1/seller_accounts[/{id}]`, the portal's forms): every refusal's code, param and
message, the limits at their boundaries, and what a valid request turns into; the pay-out entries' guards and memos."""

import pytest

from webapp.domain import ledger_payouts as rules
from webapp.domain.errors import InvalidMoney, UnknownCurrency, ValidationError
from webapp.domain.payouts import Interval, Schedule
from webapp.domain.sellers import NewSeller, SellerChanges

IBAN = "DE89370400440532013000"
COUNTRY = "country must be a two-letter ISO 3166 code such as \"DE\"."


def _new(**fields) -> dict:
    return {"display_name": "Potter Co", "currency": "EUR", "iban": IBAN, **fields}


def _refusal(parse, document) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        parse(document)
    return raised.value


REFUSALS = [  # (body, code, param, message)
    ("seller", "parameter_invalid", None, "The request body must be a JSON object."),
    (_new(phone="1", colour="red"), "parameter_unknown", "colour", "Received unknown parameter: colour."),
    (_new(display_name=None), "parameter_missing", "display_name", "display_name is required."),
    (_new(display_name="   "), "parameter_missing", "display_name", "display_name is required."),
    (_new(display_name=7), "parameter_missing", "display_name", "display_name is required."),
    (_new(display_name="n" * 201), "parameter_invalid", "display_name", "display_name is longer than 200 characters."),
    (_new(iban=None), "parameter_missing", "iban", "An IBAN is required."),
    (_new(iban=" "), "parameter_missing", "iban", "An IBAN is required."),
    (_new(email=5), "parameter_invalid", "email", "email must be a string."),
    (_new(country="DEU"), "parameter_invalid", "country", COUNTRY),
    (_new(country="D1"), "parameter_invalid", "country", COUNTRY),
    (_new(country="ÄÖ"), "parameter_invalid", "country", COUNTRY),
    (_new(country=49), "parameter_invalid", "country", COUNTRY),
]


@pytest.mark.parametrize(("document", "code", "param", "message"), REFUSALS)
def test_every_seller_refusal_names_its_code_param_and_reason(document, code, param, message):
    refusal = _refusal(NewSeller.from_json, document)
    assert (refusal.code, refusal.param, refusal.message) == (code, param, message)


def test_validator_reasons_are_passed_on_with_the_field():
    iban = _refusal(NewSeller.from_json, _new(iban="DE00370400440532013000"))
    assert (iban.code, iban.param) == ("iban_invalid", "iban") and iban.message.startswith("Invalid IBAN: ")
    assert len(iban.message) > len("Invalid IBAN: ")
    email = _refusal(NewSeller.from_json, _new(email="potter@"))
    assert (email.code, email.param) == ("parameter_invalid", "email")
    assert email.message.startswith("Invalid email address: ") and len(email.message) > 25


def test_currency_and_minimum_refusals_name_their_fields():
    with pytest.raises(UnknownCurrency) as currency:
        NewSeller.from_json(_new(currency=None))
    assert (currency.value.param, currency.value.message) == ("currency", "Unsupported currency: None.")
    with pytest.raises(InvalidMoney) as minimum:
        NewSeller.from_json(_new(minimum_payout_amount="1.005"))
    assert minimum.value.param == "minimum_payout_amount"
    with pytest.raises(UnknownCurrency) as basic:
        NewSeller.basic("Potter Co", IBAN, "euro")
    assert basic.value.param == "currency"


def test_the_smallest_request_takes_the_merchants_defaults():
    seller = NewSeller.from_json(_new(email=None, country=None))
    assert (seller.display_name, seller.iban, seller.currency) == ("Potter Co", IBAN, "EUR")
    assert (seller.email, seller.country, seller.schedule, seller.minimum_payout_minor) == (None, None, None, None)
    assert seller.country_or_iban == "DE"  # no country given: the IBAN's
    assert NewSeller.basic(" Potter   Co ", "de89 3704 0044 0532 0130 00", "eur") == seller


def test_a_full_request_keeps_every_field_at_its_limits():
    seller = NewSeller.from_json(_new(display_name="n" * 200, email=" Potter@Example.COM ", country="fr",
                                      minimum_payout_amount="0", payout_schedule={"interval": "manual"}))
    assert seller.display_name == "n" * 200 and seller.email == "potter@example.com"
    assert seller.country == "FR" == seller.country_or_iban
    assert seller.minimum_payout_minor == 0 and seller.schedule == Schedule(Interval.MANUAL)


def test_an_update_reads_only_the_fields_it_names():
    assert SellerChanges.from_json({}, "EUR") == SellerChanges()
    assert SellerChanges.from_json({"email": None}, "EUR") == SellerChanges()
    changes = SellerChanges.from_json({"display_name": " New  Name ", "email": "A@Example.com", "iban": IBAN,
                                       "payout_schedule": {"interval": "daily", "delay_days": 2},
                                       "minimum_payout_amount": "1500"}, "JPY")
    assert changes == SellerChanges("New Name", "a@example.com", IBAN, Schedule(Interval.DAILY, delay_days=2), 1500)
    for field, param, code in [("display_name", "display_name", "parameter_missing"),
                               ("iban", "iban", "parameter_missing"), ("payout_schedule", "payout_schedule",
                                                                       "parameter_invalid")]:
        refusal = _refusal(lambda d: SellerChanges.from_json(d, "EUR"), {field: None})  # named: must be valid
        assert (refusal.param, refusal.code) == (param, code)
    for body, param, message in [("x", None, "The request body must be a JSON object."),
                                 ({"currency": "USD"}, "currency", "Received unknown parameter: currency."),
                                 ({"email": 3}, "email", "email must be a string.")]:
        refusal = _refusal(lambda d: SellerChanges.from_json(d, "EUR"), body)
        assert (refusal.param, refusal.message) == (param, message)


@pytest.mark.parametrize("rule", [rules.payout_transferred, rules.payout_paid, rules.payout_unpaid,
                                  rules.payout_reversed])
def test_payout_amounts_must_be_positive_integers_and_say_so(rule):
    for amount in (0, -5, 2.5):
        with pytest.raises(ValueError) as raised:
            rule("p1", "USD", amount)
        assert str(raised.value) == f"amount must be a positive integer of minor units, got {amount!r}"


def test_each_payout_entry_explains_itself():
    memos = {
        rules.payout_reserved("p1", "s1", "USD", 1): "Payout p1 reserved",
        rules.payout_transferred("p1", "USD", 1): "Payout p1: transferred to the seller's PSP account",
        rules.payout_paid("p1", "USD", 1): "Payout p1 paid",
        rules.payout_unpaid("p1", "USD", 1): "Payout p1 returned by the bank after it was paid",
        rules.payout_returned("p1", "s1", "USD", 1): "Payout p1 failed; money back in the wallet",
        rules.payout_reversed("p1", "USD", 1): "Payout p1: transfer reversed to the platform",
    }
    for entry, memo in memos.items():
        assert entry.memo == memo and entry.currency == "USD"


def test_the_largest_minimum_payout_is_accepted_and_one_more_minor_unit_refused():
    assert NewSeller.from_json(_new(minimum_payout_amount="10000000000000.00")).minimum_payout_minor == 10**15
    with pytest.raises(InvalidMoney) as raised:
        NewSeller.from_json(_new(minimum_payout_amount="10000000000000.01"))
    assert (raised.value.code, raised.value.param, raised.value.message) == (
        "amount_invalid", "minimum_payout_amount", "The minimum payout amount is too large.")
