"""Reconciliation's pure rules: exact parsing by currency exponent, the class of each kind of pair, escalation,
what may be fixed automatically, and adjusting entries."""

from __future__ import annotations

from datetime import date

import pytest

from webapp.domain import ledger as rules
from webapp.domain import ledger_adjustments as adjustments
from webapp.domain.errors import InvalidMoney
from webapp.domain.reconciliation import (
    MismatchClass,
    Movement,
    OurSide,
    Outcome,
    PspSide,
    auto_fixable,
    classify,
    classify_unreported,
    day_bounds,
    escalated,
    movement_of,
    parse_amount,
)

DAY = date(2026, 11, 30)
NOON = day_bounds(DAY)[0] + 12 * 3600


@pytest.mark.parametrize(("raw", "currency", "minor"), [
    ("12.30", "EUR", 1230), ("-12.30", "usd", -1230), ("0.05", "USD", 5), ("1500", "JPY", 1500),
    ("-1500", "JPY", -1500), ("1.234", "KWD", 1234), ("7", "USD", 700), ("0", "USD", 0)])
def test_amounts_parse_exactly_by_exponent(raw, currency, minor):
    assert parse_amount(raw, currency) == minor


@pytest.mark.parametrize(("raw", "currency"), [("1.005", "USD"), ("1500.0", "JPY"), ("1,00", "EUR"), ("", "USD"),
                                               ("1e3", "USD"), ("--1", "USD"), ("12.3.4", "USD")])
def test_amounts_that_are_not_exact_are_refused(raw, currency):
    with pytest.raises(InvalidMoney):
        parse_amount(raw, currency)


def test_categories_map_to_movements_by_account():
    assert movement_of("charge", connected=False) is Movement.CHARGE
    assert movement_of("charge", connected=True) is Movement.MIRROR
    assert movement_of("payout_reversal", connected=True) is Movement.PAYOUT_FAILURE
    assert movement_of("refund_failure", connected=False) is Movement.REFUND_FAILURE
    assert movement_of("dispute", connected=False) is Movement.OTHER


def _psp(**changes) -> PspSide:
    values = {"movement": Movement.CHARGE, "balance_transaction_id": "txn_1", "source_id": "ch_1", "currency": "USD",
              "gross": 1000, "fee": 59, "created": NOON}
    return PspSide(**{**values, **changes})


def _ours(**changes) -> OurSide:
    values = {"movement": Movement.CHARGE, "source_id": "ch_1", "ref": "pay_1", "currency": "USD", "amount": 1000,
              "fee": 59, "outcome": Outcome.BOOKED, "at": NOON}
    return OurSide(**{**values, **changes})


@pytest.mark.parametrize(("psp", "ours", "expected"), [
    (_psp(), _ours(), None),
    (_psp(), None, MismatchClass.MISSING_IN_LEDGER),
    (_psp(repeat=2), _ours(), MismatchClass.DUPLICATE),
    (_psp(source_id="ch_2"), _ours(found_by="ref"), MismatchClass.DUPLICATE),
    (_psp(), _ours(source_id=None, found_by="ref"), None),
    (_psp(movement=Movement.REFUND_FAILURE), _ours(movement=Movement.REFUND, found_by="family"),
     MismatchClass.STATUS_MISMATCH),
    (_psp(), _ours(outcome=Outcome.WAITING), MismatchClass.MISSING_IN_LEDGER),
    (_psp(), _ours(outcome=Outcome.OTHER), MismatchClass.STATUS_MISMATCH),
    (_psp(currency="EUR", gross=900), _ours(), MismatchClass.CURRENCY_MISMATCH),
    (_psp(gross=1001, fee=60), _ours(), MismatchClass.AMOUNT_MISMATCH),
    (_psp(fee=60), _ours(), MismatchClass.FEE_MISMATCH),
    (_psp(), _ours(at=NOON + 86_400), MismatchClass.TIMING),
])
def test_each_pair_gets_one_class(psp, ours, expected):
    assert classify(psp, ours, DAY) is expected


def test_unreported_movements_are_timing_only_when_a_neighbouring_day_has_them():
    assert classify_unreported(_ours(), DAY, in_neighbouring_day=True) is MismatchClass.TIMING
    assert classify_unreported(_ours(), DAY, in_neighbouring_day=False) is MismatchClass.MISSING_AT_PSP


def test_timing_escalates_after_the_configured_days():
    assert not escalated(DAY, date(2026, 12, 2), 3)
    assert escalated(DAY, date(2026, 12, 3), 3)


def test_only_lost_news_about_charges_and_refunds_is_fixed_automatically():
    assert auto_fixable(MismatchClass.MISSING_IN_LEDGER, Movement.CHARGE)
    assert auto_fixable(MismatchClass.MISSING_IN_LEDGER, Movement.REFUND)
    for kind in MismatchClass:
        if kind is not MismatchClass.MISSING_IN_LEDGER:
            assert not auto_fixable(kind, Movement.CHARGE)
    assert not auto_fixable(MismatchClass.MISSING_IN_LEDGER, Movement.PAYOUT)


def test_class_names_are_the_interface():
    assert [c.value for c in MismatchClass] == [
        "missing_in_ledger", "missing_at_psp", "amount_mismatch", "fee_mismatch", "currency_mismatch",
        "status_mismatch", "duplicate", "timing", "balance_mismatch"]


def test_an_adjusting_entry_balances_and_needs_a_note():
    entry = adjustments.adjustment("adjustment:mis_1", "USD", -7, rules.AccountKind.PSP_FEES, " fee was higher ")
    assert entry.kind is rules.EntryKind.ADJUSTMENT and entry.memo == "fee was higher"
    assert {p.account.code: p.amount for p in entry.postings} == {"platform:psp_available:USD": -7,
                                                                  "platform:psp_fees:USD": 7}
    with pytest.raises(ValueError):
        adjustments.adjustment("adjustment:mis_2", "USD", 5, rules.AccountKind.SUSPENSE, "  ")
    with pytest.raises(ValueError):
        adjustments.adjustment("adjustment:mis_3", "USD", 0, rules.AccountKind.SUSPENSE, "why")
    with pytest.raises(ValueError):
        adjustments.adjustment("adjustment:mis_4", "USD", 5, rules.AccountKind.FEE_REVENUE, "why")
