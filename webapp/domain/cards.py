"""Recognising card numbers, so they can be refused and never stored or logged.

One detector for every text the gateway accepts or writes to a log. A card number is a 13-19 digit,
Luhn-valid number starting with a card network's digit, written as cards are: unbroken, in groups of four
(4-4-4-4[-1..3]) or Amex/Diners-style (4-6-5, 4-6-4). Careless or evasive writing is normalised first:
any Unicode decimal digit counts as its digit (full-width, Arabic-Indic, ...) and the groups may be
separated by up to three of: spaces (any Unicode space, tabs, no-break spaces), dots, slashes, underscores or
dashes (any Unicode dash), mixed. A number glued to letters or other digits by such a separator is still
looked at on its own ("order-4242…", "4242…_2"). IBANs are not cards: a valid IBAN (checked by `schwifty`)
is skipped even when a run of its digits happens to look like a card.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

# `\d` matches every Unicode decimal digit; `\s` every Unicode space (tab, NBSP, figure space, ideographic space).
_SEPARATOR = r"[\s._/\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d\uff0e\uff0f\uff3f]"
_RUN = re.compile(rf"\d+(?:{_SEPARATOR}{{1,3}}\d+)*")
_GROUP = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")
# A run needs this many digits before it can hold a card; most texts (and log lines) are rejected by this alone.
_MIN_DIGITS = 13
# That many digits in one run (each within three separators of the next): one search, no loop over the runs.
_LONG_RUN = re.compile(rf"\d(?:{_SEPARATOR}{{0,3}}\d){{{_MIN_DIGITS - 1}}}")
# The same question for ASCII text at a fraction of the cost (a regex walks a long text character by character in
# Python's engine): with the separators deleted, every digit as "0" and anything else as "x", such a run leaves
# 13 zeros in a row (so can a few runs more than three separators apart: those go on to the exact search).
_ASCII_SEPARATORS = bytes(code for code in range(128) if re.fullmatch(_SEPARATOR, chr(code)))
_ASCII_DIGITS_AS_ZERO = bytes(ord("0") if chr(code) in "0123456789" else ord("x") for code in range(256))
_ZEROS = b"0" * _MIN_DIGITS
# Issuer identification numbers of card networks start with 2 (Mastercard), 3 (Amex, JCB, Diners),
# 4 (Visa), 5 (Mastercard) or 6 (Discover, UnionPay, Maestro).
_NETWORK_PREFIXES = "23456"
_GROUPED_SHAPES = {(4, 4, 4, 4), (4, 4, 4, 4, 1), (4, 4, 4, 4, 2), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4)}
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}\b")
CARD_FIELD_NAMES = frozenset({"credit_card_info", "card", "card_number", "cardnumber", "pan", "cvc", "cvv",
                              "card_details", "payment_card"})
MASK = "[REDACTED]"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in text)


def _is_card(groups: list[str]) -> bool:
    digits = "".join(groups)
    shape = tuple(len(group) for group in groups)
    if len(groups) == 1:
        if not 13 <= len(digits) <= 19:
            return False
    elif shape not in _GROUPED_SHAPES:
        return False
    return digits[0] in _NETWORK_PREFIXES and luhn_valid(digits)


def _iban_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _IBAN_CANDIDATE.finditer(text):
        try:
            IBAN(match.group(0))
        except SchwiftyException:
            continue
        spans.append(match.span())
    return spans


# Joins many texts for one pass of the checks (a request body's, a log line's values). It is no digit, space,
# separator, letter nor word character, and no escape decodes from it, so no card-shaped run, IBAN candidate or word
# boundary found in the joined text crosses it: each text is judged in the join exactly as on its own.
TEXT_JOINER = "|"


def may_hold_card(text: str) -> bool:
    """False when no run of digits in `text` is long enough to hold a card number: the cheap test that settles
    most texts (ids, amounts, dates, timestamps, whole log lines)."""
    if len(text) < _MIN_DIGITS:
        return False
    if text.isascii() and _ZEROS not in text.encode().translate(_ASCII_DIGITS_AS_ZERO, _ASCII_SEPARATORS):
        return False
    return _LONG_RUN.search(text) is not None


def card_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) in `text` of every card-shaped, Luhn-valid number with a card network's prefix."""
    if not may_hold_card(text):
        return
    ibans = None
    for run in _RUN.finditer(text):
        # No card fits in a run of fewer digits: most runs (ids, amounts, dates) end here, before the work below
        # and before the IBAN check, which is made once, for the first run that could hold a card.
        if len(_DIGIT.findall(run.group(0))) < _MIN_DIGITS:
            continue
        if ibans is None:
            ibans = _iban_spans(text)
        if any(start <= run.start() and run.end() <= end for start, end in ibans):
            continue
        groups = [(m.start() + run.start(), m.end() + run.start(), _ascii_digits(m.group(0)))
                  for m in _GROUP.finditer(run.group(0))]
        index = 0
        while index < len(groups):
            # The longest card-shaped window of consecutive groups starting here (at most 5 groups).
            for end in range(min(len(groups), index + 5), index, -1):
                window = groups[index:end]
                if _is_card([digits for _, _, digits in window]):
                    yield window[0][0], window[-1][1]
                    index = end
                    break
            else:
                index += 1


def contains_card_number(text: str) -> bool:
    """True when `text` holds a card number, however it is written (see the module's docstring)."""
    return next(card_spans(text), None) is not None


def mask_card_numbers(text: str) -> str:
    """`text` with every card number replaced by [REDACTED] (for log lines, tracebacks and anything shown)."""
    spans = list(card_spans(text))  # none, at the cost of one quick test, for most texts (card_spans)
    for start, end in reversed(spans):
        text = text[:start] + MASK + text[end:]
    return text


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
