import pytest

from webapp.domain.errors import InvalidMoney, UnknownCurrency
from webapp.domain.money import Money


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
