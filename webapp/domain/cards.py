"""Recognising card numbers, so they can be refused and never stored or logged."""

from __future__ import annotations

import re
from collections.abc import Iterator

# 13-19 digits, possibly grouped by single spaces or dashes.
_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
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
    """True when `text` holds a Luhn-valid 13-19 digit sequence."""
    for match in _CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
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
    elif isinstance(value, str | int) and not isinstance(value, bool):
        yield path, str(value), False


def find_card_data(document: object) -> str | None:
    """The path of the first field that carries card data (by its name or its content), or None."""
    for path, text, is_key in _leaves(document):
        if (is_key and text.lower() in CARD_FIELD_NAMES) or contains_card_number(text):
            return path
    return None
