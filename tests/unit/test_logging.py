import logging

from webapp.logging_setup import RedactCardNumbers, redact


def test_card_like_numbers_are_redacted_in_any_grouping():
    for card in ("4242424242424242", "4242 4242 4242 4242", "4000-0025-0000-3155", "378282246310005"):
        assert card not in redact(f"payload card={card} end")
        assert "[REDACTED]" in redact(card)


def test_short_numbers_and_ids_are_left_alone():
    text = "order 12345 amount 315 at 2026-11-24 id sel_IsXKKMql2IOIdVmg2RuZ"
    assert redact(text) == text


def test_filter_rewrites_log_records_with_arguments():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "body %s", ("4242424242424242",), None)
    assert RedactCardNumbers().filter(record)
    assert record.getMessage() == "body [REDACTED]"
