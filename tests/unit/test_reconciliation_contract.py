"""Reconciliation's small rules as an auditor reads them: report amounts to the minor unit, UTC days whatever the
server's timezone, stable mismatch keys, and the words shown for a failed payout."""

import time
from datetime import date, timedelta

import pytest

from webapp.domain.errors import InvalidMoney
from webapp.domain.payout_failures import failure_words
from webapp.domain.reconciliation import (
    FAMILY,
    SETTLED,
    MismatchClass,
    MismatchStatus,
    Movement,
    day_bounds,
    day_of,
    mismatch_key,
    movement_of,
    parse_amount,
)


@pytest.mark.parametrize(("raw", "currency", "minor"), [("1.5", "USD", 150), ("-0.5", "eur", -50), ("0.005", "KWD", 5),
                                                       ("-1500", "JPY", -1500)])
def test_report_amounts_pad_missing_decimals_on_the_right(raw, currency, minor):
    assert parse_amount(raw, currency) == minor


@pytest.mark.parametrize(("raw", "currency", "message"), [
    ("1,50", "USD", "Amount '1,50' is not a decimal number."),
    ("1.005", "USD", "Amount '1.005' has more decimals than USD allows (2)."),
    ("1500.0", "JPY", "Amount '1500.0' has more decimals than JPY allows (0)."),
])
def test_unreadable_report_amounts_say_why(raw, currency, message):
    with pytest.raises(InvalidMoney) as raised:
        parse_amount(raw, currency)
    assert raised.value.message == message


@pytest.fixture
def far_from_utc(monkeypatch):
    """The server's local time 14 hours ahead of UTC: a report day must still be the UTC day."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("far_from_utc")
def test_days_are_utc_days_whatever_the_servers_timezone():
    day = date(2026, 11, 30)
    start, end = day_bounds(day)
    assert start % 86_400 == 0 and end - start == 86_400  # from UTC midnight to the next
    assert (day_of(start), day_of(end - 1), day_of(end)) == (day, day, day + timedelta(days=1))
    assert day_bounds(day + timedelta(days=1))[0] == end


def test_mismatch_keys_are_stable_and_bounded():
    assert mismatch_key(MismatchClass.FEE_MISMATCH, "ch_1", None, "") == "fee_mismatch:ch_1:-:-"
    long = mismatch_key(MismatchClass.DUPLICATE, "x" * 300)
    assert len(long) == 200 and long.startswith("duplicate:xxx")


def test_failed_payouts_are_explained_in_plain_words():
    assert failure_words("account_closed") == "The bank account has been closed. Replace the seller's bank account."
    assert failure_words("new_code", "The bank said no.") == "The bank said no."
    assert failure_words(None) == "The payout failed; the money is back in the seller's wallet."
    assert failure_words("new_code", "") == "The payout failed; the money is back in the seller's wallet."


@pytest.mark.parametrize("raw", ["01.50", "+1.50", "00"])
def test_report_amounts_are_plain_decimals(raw):
    with pytest.raises(InvalidMoney):
        parse_amount(raw, "USD")


def test_a_failure_or_reversal_row_belongs_to_the_object_it_undoes():
    """A refund_failure row finds our refund, a payout reversal our payout, a transfer reversal our transfer: a
    status difference of the same object, never a missing record."""
    assert FAMILY[Movement.REFUND_FAILURE] == FAMILY[Movement.REFUND]
    assert FAMILY[Movement.PAYOUT_FAILURE] == FAMILY[Movement.PAYOUT]
    assert FAMILY[Movement.TRANSFER_REVERSAL] == FAMILY[Movement.TRANSFER]
    assert len({FAMILY[m] for m in (Movement.CHARGE, Movement.REFUND, Movement.TRANSFER, Movement.PAYOUT,
                                    Movement.OTHER, Movement.MIRROR)}) == 6
    assert movement_of("transfer_reversal", connected=False) is Movement.TRANSFER_REVERSAL


def test_only_resolved_adjusted_or_accepted_mismatches_are_settled():
    assert {s for s in MismatchStatus if s in SETTLED} == {
        MismatchStatus.AUTO_RESOLVED, MismatchStatus.ADJUSTED, MismatchStatus.ACCEPTED}


def test_a_canceled_payout_is_explained():
    assert failure_words("canceled") == "The payout was canceled before it was sent; the money is back in the wallet."
