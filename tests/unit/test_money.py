import pytest

from webapp.domain.errors import InvalidMoney, UnknownCurrency
from webapp.domain.money import Money, describe, exponent


@pytest.mark.parametrize(("raw", "currency", "minor"), [
    ("3.15", "USD", 315), ("3.1", "usd", 310), ("3", "USD", 300), ("0.01", "USD", 1),
    ("100", "JPY", 100), ("1.234", "KWD", 1234), ("9999999999999999", "JPY", 9999999999999999),
])
def test_parses_decimal_strings_by_currency_exponent(raw, currency, minor):
    assert Money.parse(raw, currency) == Money(minor, currency.upper())


@pytest.mark.parametrize("raw", ["3.155", "-1", "1e3", "0x10", " ", "", "01.5", "1,5", "١٢", "NaN", "Infinity"])
def test_refuses_anything_but_a_plain_decimal_with_allowed_places(raw):
    with pytest.raises(InvalidMoney) as info:
        Money.parse(raw, "USD")
    assert info.value.param == "amount"


def test_refuses_decimals_on_zero_decimal_currency():
    with pytest.raises(InvalidMoney, match="JPY allows \\(0\\)"):
        Money.parse("100.5", "JPY")


@pytest.mark.parametrize("raw", [3.15, 315, None, ["3.15"]])
def test_refuses_non_strings_so_floats_never_touch_money(raw):
    with pytest.raises(InvalidMoney):
        Money.parse(raw, "USD")


def test_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrency):
        Money.parse("1", "XXX")


@pytest.mark.parametrize(("money", "wire", "human"), [
    (Money(315, "USD"), "3.15", "3.15 USD"), (Money(5, "USD"), "0.05", "0.05 USD"),
    (Money(123456789, "USD"), "1234567.89", "1,234,567.89 USD"), (Money(-250, "EUR"), "-2.50", "-2.50 EUR"),
    (Money(1500, "JPY"), "1500", "1,500 JPY"), (Money(1234, "KWD"), "1.234", "1.234 KWD"),
])
def test_formats_without_floats(money, wire, human):
    assert money.decimal_string == wire
    assert money.format() == human
    assert Money.parse(wire.lstrip("-"), money.currency).minor == abs(money.minor)


def test_arithmetic_refuses_mixed_currencies():
    assert Money(100, "USD") + Money(5, "USD") == Money(105, "USD")
    with pytest.raises(InvalidMoney):
        Money(100, "USD") + Money(5, "EUR")


def test_subtraction_keeps_the_currency_and_may_go_negative():
    assert Money(500, "USD") - Money(120, "USD") == Money(380, "USD")
    assert Money(100, "EUR") - Money(250, "EUR") == Money(-150, "EUR")
    with pytest.raises(InvalidMoney) as raised:
        Money(100, "USD") - Money(5, "EUR")
    assert raised.value.message == "Cannot combine USD and EUR."


@pytest.mark.parametrize(("currency", "wire", "human"), [("USD", "0.00", "0.00 USD"), ("JPY", "0", "0 JPY"),
                                                         ("KWD", "0.000", "0.000 KWD")])
def test_zero_has_no_sign(currency, wire, human):
    """Zero is what a fully refunded order or an empty wallet shows: never "-0.00"."""
    assert Money(0, currency).decimal_string == wire
    assert Money(0, currency).format() == human == str(Money(0, currency))


def test_one_minor_unit_either_side_of_zero():
    assert (Money(1, "USD").decimal_string, Money(-1, "USD").decimal_string) == ("0.01", "-0.01")
    assert (Money(1, "JPY").format(), Money(-1, "JPY").format()) == ("1 JPY", "-1 JPY")


def test_exponents_by_currency():
    assert [exponent(c) for c in ("jpy", "USD", "eur", "KWD", "BHD", "CLP")] == [0, 2, 2, 3, 3, 0]
    with pytest.raises(UnknownCurrency) as raised:
        exponent("BTC")
    assert (raised.value.code, raised.value.param, raised.value.message) == (
        "currency_invalid", "currency", "Unsupported currency: 'BTC'.")


@pytest.mark.parametrize(("raw", "currency", "param", "message"), [
    (3.15, "USD", "amount", "Amount must be a decimal string such as \"3.15\"."),
    ("1.5.0", "USD", "amount", "Amount '1.5.0' is not a positive decimal number."),
    ("3.155", "USD", "amount", "Amount '3.155' has more decimals than USD allows (2)."),
    ("1.2345", "kwd", "amount", "Amount '1.2345' has more decimals than KWD allows (3)."),
    ("1", None, "currency", "Unsupported currency: None."),
    ("1", "usdx", "currency", "Unsupported currency: 'usdx'."),
])
def test_refusals_say_what_is_wrong(raw, currency, param, message):
    with pytest.raises((InvalidMoney, UnknownCurrency)) as raised:
        Money.parse(raw, currency)
    assert (raised.value.param, raised.value.message) == (param, message)
    assert raised.value.code == ("currency_invalid" if param == "currency" else "amount_invalid")


def test_refusals_name_the_callers_field():
    for raw in (1, "x"):
        with pytest.raises(InvalidMoney) as raised:
            Money.parse(raw, "USD", param="payment_orders[2][amount]")
        assert raised.value.param == "payment_orders[2][amount]"


def test_the_longest_amount_and_leading_zeros():
    assert Money.parse("9999999999999999.99", "USD").minor == 999999999999999999
    assert Money.parse("0.5", "USD").minor == 50 and Money.parse(" 7 ", "EUR").minor == 700
    for raw in ("10000000000000000", "00", "007", ".5", "5.", "+5"):
        with pytest.raises(InvalidMoney):
            Money.parse(raw, "USD")


def test_reports_describe_any_stored_figure_even_in_an_unknown_currency():
    assert describe(315, "USD") == "3.15 USD" and describe("-1500", "JPY") == "-1,500 JPY"  # database values as is
    assert describe(5, "BTC") == "5 BTC (minor units)" and describe(None, "USD") == "None USD (minor units)"
