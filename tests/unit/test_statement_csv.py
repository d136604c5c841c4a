"""CSV cells that a spreadsheet would run as formulas are neutralised; our own amounts stay numbers."""

import pytest

from webapp.domain.payout_failures import FAILURE_WORDS, failure_words
from webapp.portal.statement_csv import safe_cell


@pytest.mark.parametrize("raw, written", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1+2", "'+1+2"), ("-A1", "'-A1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-3.15", "-3.15"), ("12.00", "12.00"), ("-12", "-12"), ("--1", "'--1"), ("-1-1", "'-1-1"),
    ("Order A-1 (payment chk_1)", "Order A-1 (payment chk_1)"), (None, ""), ("", ""), (315, "315"),
])
def test_safe_cell(raw, written):
    assert safe_cell(raw) == written


def test_failure_words_fall_back_to_the_psps_message():
    assert failure_words("no_account", "ignored") == FAILURE_WORDS["no_account"]
    assert failure_words("something_new", "The bank said no.") == "The bank said no."
    assert "back in the seller's wallet" in failure_words(None)
