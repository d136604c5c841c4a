"""Recognising card numbers, so they can be refused and never stored or logged."""

from __future__ import annotations

import re
from collections.abc import Iterator

# 13-19 digits written as cards are: unbroken, in groups of four (4-4-4-4[-1..3]), or Amex-style 4-6-5/4-6-4,
# with one kind of separator. Other dashed numbers (dates, "order-12-5381...") are identifiers, not cards.
_CANDIDATE = re.compile(
    r"(?<![\d-])(\d{13,19}|\d{4}([ -])\d{4}\2\d{4}\2\d{4}(?:\2\d{1,3})?|\d{4}([ -])\d{6}\3\d{4,5})(?![\d-])")
# Issuer identification numbers of card networks start with 2 (Mastercard), 3 (Amex, JCB, Diners),
# 4 (Visa), 5 (Mastercard) or 6 (Discover, UnionPay, Maestro).
_NETWORK_PREFIXES = "23456"
CARD_FIELD_NAMES = frozenset({"credit_card_info", "card", "card_number", "cardnumber", "pan", "cvc", "cvv",
                              "card_details", "payment_card"})


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """True when `text` holds a card-shaped, Luhn-valid 13-19 digit number with a card network's prefix."""
    for match in _CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(1))
        if 13 <= len(digits) <= 19 and digits[0] in _NETWORK_PREFIXES and luhn_valid(digits):
            return True
    return False


def _leaves(value: object, path: str = "") -> Iterator[tuple[str, str, bool]]:
    """(path, text, is_key) for every key and scalar in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key), True
            yield from _leaves(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        # Floats too: a card number written as a JSON number with ".0" parses as a float that still spells it.
        yield path, str(value), False


def find_card_data(document: object) -> str | None:
    """The path of the first field that carries card data (by its name or its content), or None."""
    for path, text, is_key in _leaves(document):
        if (is_key and text.lower() in CARD_FIELD_NAMES) or contains_card_number(text):
            return path
    return None
