"""The one card-number detector: every encoding a careless client uses is found; ids, IBANs, dates are not cards."""

import logging
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.domain.cards import contains_card_number, find_card_data, mask_card_numbers, may_hold_card
from webapp.logging_setup import RedactCardNumbers, redact

VISA = "4242424242424242"
FULL_WIDTH = "".join(chr(0xFF10 + int(d)) for d in VISA)
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in VISA)


def spelled(separator: str, digits: str = VISA) -> str:
    return separator.join(digits[i:i + 4] for i in range(0, len(digits), 4))


ENCODINGS = {
    "plain": VISA, "spaces": spelled(" "), "dashes": spelled("-"), "dots": spelled("."), "slashes": spelled("/"),
    "underscores": spelled("_"), "tabs": spelled("\t"), "no-break spaces": spelled("\u00a0"),
    "doubled spaces": spelled("  "), "spaced dashes": spelled(" - "), "en dashes": spelled("\u2013"),
    "mixed": "4242-4242 4242.4242", "full-width": FULL_WIDTH, "full-width spaced": spelled("\u3000", FULL_WIDTH),
    "arabic-indic": ARABIC_INDIC, "amex": "3782 822463 10005", "in an id": f"order-{VISA}",
    "glued to letters": f"chk{VISA}x", "in a url": f"https://shop.example/ok?ref={spelled('.')}&x=1",
    "in an email": f"{VISA}@example.com", "after an id": f"order-12-{VISA}", "before a suffix": f"{VISA}-2",
    "with expiry": f"{VISA} 12/30",
}


@pytest.mark.parametrize("text", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_card_numbers_are_found_in_every_encoding(text):
    assert contains_card_number(text)
    masked = mask_card_numbers(text)
    assert not contains_card_number(masked)
    assert "[REDACTED]" in masked


LEGITIMATE = {
    "iban": "DE89 3704 0044 0532 0130 00",
    "iban unspaced": "DE89370400440532013000",
    # a real IBAN whose inner groups (3704 0044 1000 0009) are a Luhn-valid number with a card prefix
    "iban with a card-shaped inside": "DE70 3704 0044 1000 0009 00",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "digit-only uuid": "12345678-1234-1234-1234-123456789012",
    "timestamp": "2026-11-30T10:57:40.123456+00:00",
    "unix ms": "1764500000000",
    "unix ns": "1764500000000000000",
    "amount": "123456789.99",
    "our ids": "pay_IsXKKMql2IOIdVmg2RuZ sel_abc123 pyt_0042",
    "date and order": "order 1234567890123 and 2026-11-24",
    "luhn-invalid": "4242 4242 4242 4241",
    "too long": "42424242424242424242",
}


@pytest.mark.parametrize("text", LEGITIMATE.values(), ids=LEGITIMATE.keys())
def test_legitimate_numbers_are_not_cards(text):
    assert not contains_card_number(text)
    assert mask_card_numbers(text) == text


@pytest.mark.parametrize("text", [VISA, spelled(" "), spelled(" - "), "3782 822463 10005", f"x{VISA}x", "1234567890123",
                                  FULL_WIDTH, spelled("\u3000", FULL_WIDTH)])
def test_the_quick_test_lets_every_long_run_through(text):
    assert may_hold_card(text)


@pytest.mark.parametrize("text", ["2026-11-30T17:17:57.396767Z", "req_VdlPy5iC2AwgDp045MoXv1GE",
                                  "amount 515 at 1796059773", "123456789012", "1234    5678901234",
                                  "1234+5678+9012+3456",
                                  "\uff11\uff12\uff13\uff14x\uff15\uff16\uff17\uff18\uff19\uff10\uff11\uff12\uff13"])
def test_the_quick_test_settles_texts_without_a_long_run(text):
    assert not may_hold_card(text)
    assert mask_card_numbers(text) == text


_ALPHABET = "0123456789" * 3 + " \t\x1c._/-+:|" + "abcXYZ"


@settings(deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_the_quick_test_for_ascii_text_answers_as_the_full_search(text):
    """ASCII text takes a shortcut; with a trailing "é" (neither digit nor separator, not ASCII) the same text
    takes the full search. They must agree."""
    assert may_hold_card(text) == may_hold_card(text + "\u00e9")


def test_masking_keeps_the_rest_of_the_text():
    assert mask_card_numbers(f"a {VISA} b {spelled('.')} c") == "a [REDACTED] b [REDACTED] c"


def test_find_card_data_uses_the_same_detector():
    assert find_card_data({"buyer": {"name": FULL_WIDTH}}) == "buyer.name"
    assert find_card_data({"orders": [{"description": spelled("_")}]}) == "orders[0].description"


def test_access_log_lines_with_percent_encoded_cards_are_masked():
    for line in (f'"GET /checkout/x?q={spelled("%20")} HTTP/1.1" 404', f"GET /x?q={spelled('+')} HTTP/1.1",
                 "GET /x?q=%EF%BC%94242424242424242 HTTP/1.1"):
        assert not contains_card_number(redact(line).replace("%20", " "))
        assert "[REDACTED]" in redact(line)


def test_the_filter_masks_tracebacks_and_sql_parameters():
    try:
        raise ValueError(f"(psycopg.errors.StringDataRightTruncation) [parameters: ('{spelled(' ')}',)]")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", (FULL_WIDTH,), sys.exc_info())
    RedactCardNumbers().filter(record)
    formatted = logging.Formatter().format(record)
    assert not contains_card_number(formatted)
    assert formatted.count("[REDACTED]") == 2


def test_every_record_is_masked_even_on_handlers_added_later(app_for_logging, caplog):
    """The record factory masks at creation: a handler added after configure() (RQ's, gunicorn's) sees no card."""
    logger = logging.getLogger("added.later")
    with caplog.at_level(logging.INFO, logger="added.later"):
        logger.info("card %s", spelled("/"))
    assert caplog.records and not contains_card_number(caplog.text)


@pytest.fixture
def app_for_logging():
    from config import load_config
    from webapp import create_app

    return create_app(load_config("test"))
