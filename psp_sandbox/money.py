"""Minor units to major units by currency exponent, for the payment page and settlement files."""

from __future__ import annotations

from decimal import Decimal

# Stripe's zero-decimal and three-decimal currencies; every other currency has two decimals.
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                "xof", "xpf"}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥", "chf": "CHF ", "sek": "SEK ", "dkk": "DKK "}


def exponent(currency: str) -> int:
    currency = currency.lower()
    return 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2


def major(amount: int, currency: str) -> str:
    """`2500, "eur"` → `"25.00"`: exact decimal text, never a float."""
    return str(Decimal(amount).scaleb(-exponent(currency)).quantize(Decimal(1).scaleb(-exponent(currency))))


def display(amount: int, currency: str) -> str:
    symbol = SYMBOLS.get(currency.lower())
    return f"{symbol}{major(amount, currency)}" if symbol else f"{major(amount, currency)} {currency.upper()}"
