"""Money as an integer of minor units with its currency.

Amounts arrive as decimal strings ("3.15") and are parsed strictly by the currency's exponent
(ISO 4217): "3.155" USD and "100.5" JPY are refused rather than rounded. Floats never touch money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.domain.errors import InvalidMoney, UnknownCurrency

# ISO 4217 minor-unit exponents for the currencies the gateway accepts (Stripe's settlement set).
_ZERO_DECIMAL = {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
                 "XAF", "XOF", "XPF"}
_THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}
_TWO_DECIMAL = {"AED", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF",
                "IDR", "ILS", "INR", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RON", "SEK", "SGD", "THB",
                "TRY", "TWD", "USD", "ZAR"}

CURRENCY_EXPONENTS: dict[str, int] = {
    **{c: 0 for c in _ZERO_DECIMAL}, **{c: 2 for c in _TWO_DECIMAL}, **{c: 3 for c in _THREE_DECIMAL}
}

_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,15})(?:\.([0-9]+))?$")


def currency_code(raw: object, *, param: str = "currency") -> str:
    """The upper-case ISO code for `raw`, or UnknownCurrency."""
    if not isinstance(raw, str) or raw.upper() not in CURRENCY_EXPONENTS:
        raise UnknownCurrency(f"Unsupported currency: {raw!r}.", param=param)
    return raw.upper()


def exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS[currency_code(currency)]


@dataclass(frozen=True, order=True)
class Money:
    """An amount in minor units (cents for USD, yen for JPY) of one currency."""

    minor: int
    currency: str

    @classmethod
    def parse(cls, raw: object, currency: str, *, param: str = "amount") -> Money:
        """Parse a decimal string strictly: digits, at most the currency's number of decimals."""
        code = currency_code(currency)
        if not isinstance(raw, str):
            raise InvalidMoney("Amount must be a decimal string such as \"3.15\".", param=param)
        match = _DECIMAL.fullmatch(raw.strip())
        if match is None:
            raise InvalidMoney(f"Amount {raw!r} is not a positive decimal number.", param=param)
        whole, fraction = match.group(1), match.group(2) or ""
        places = CURRENCY_EXPONENTS[code]
        if len(fraction) > places:
            raise InvalidMoney(
                f"Amount {raw!r} has more decimals than {code} allows ({places}).", param=param
            )
        return cls(int(whole) * 10**places + int(fraction.ljust(places, "0") or 0), code)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidMoney(f"Cannot combine {self.currency} and {other.currency}.")

    @property
    def decimal_string(self) -> str:
        """"3.15" for 315 USD, "100" for 100 JPY: the API's wire format."""
        return decimal_string(self.minor, self.currency)

    def format(self) -> str:
        """Human form for pages: "1,234.50 USD"."""
        places = CURRENCY_EXPONENTS[self.currency]
        sign = "-" if self.minor < 0 else ""
        whole, fraction = divmod(abs(self.minor), 10**places)
        text = f"{whole:,}" + (f".{fraction:0{places}d}" if places else "")
        return f"{sign}{text} {self.currency}"

    def __str__(self) -> str:
        return self.format()


def decimal_string(minor: int, currency: str) -> str:
    """`Money(minor, currency).decimal_string` without making a Money: list pages write hundreds of amounts."""
    places = CURRENCY_EXPONENTS[currency]
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def describe(minor: int, currency: str) -> str:
    """`Money(minor, currency).format()`, or the raw figure for a currency the gateway does not know: reports on
    broken records must still say what they found."""
    try:
        return Money(int(minor), currency).format()
    except (InvalidMoney, UnknownCurrency, KeyError, TypeError, ValueError):
        return f"{minor} {currency} (minor units)"
