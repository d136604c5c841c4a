"""The platform fee's rounding rule and the split of refunds: no minor unit lost or created."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.errors import ValidationError
from webapp.domain.wallets import (
    FeeSchedule,
    Funds,
    RefundPolicy,
    Split,
    may_go_negative,
    platform_fee,
    refund_split,
    refundable,
    round_half_up_div,
)


@pytest.mark.parametrize("amount, bps, fixed, fee", [
    (315, 300, 30, 39),       # 9.45 → 9, + 30
    (150, 300, 0, 5),         # 4.5 → 5: halves round up
    (50, 300, 0, 2),          # 1.5 → 2
    (49, 300, 0, 1),          # 1.47 → 1
    (10_000, 250, 0, 250),
    (20, 300, 30, 20),        # never more than the order
    (0, 300, 30, 0),
    (1, 0, 0, 0),
    (99_999_999, 10_000, 0, 99_999_999),
    (1500, 290, 0, 44),       # JPY-like: 43.5 → 44
])
def test_platform_fee_rounds_half_up_and_is_capped(amount, bps, fixed, fee):
    assert platform_fee(amount, FeeSchedule(bps, fixed)) == fee


def test_round_half_up_div():
    assert [round_half_up_div(n, 4) for n in range(9)] == [0, 0, 1, 1, 1, 1, 2, 2, 2]
    with pytest.raises(ValueError):
        round_half_up_div(-1, 4)


@pytest.mark.parametrize("bps, fixed", [(-1, 0), (10_001, 0), (100, -1), (1.5, 0)])
def test_fee_schedules_are_validated(bps, fixed):
    with pytest.raises(ValidationError):
        FeeSchedule(bps, fixed)


@given(amount=st.integers(0, 10**11), bps=st.integers(0, 10_000), fixed=st.integers(0, 10**4))
def test_fee_plus_share_is_exactly_the_amount(amount, bps, fixed):
    fee = platform_fee(amount, FeeSchedule(bps, fixed))
    assert 0 <= fee <= amount
    assert fee == min(amount, round_half_up_div(amount * bps, 10_000) + fixed)
    if fee < amount:  # not capped: within half a minor unit of the exact percentage
        assert abs((fee - fixed) * 10_000 - amount * bps) <= 5_000


def test_proportional_refunds_return_the_fee_share_and_the_last_one_the_rest():
    # 3.15 with a 0.39 fee: 1.00 refunded → 0.12 of the fee (round_half_up(39 * 100 / 315) = 12)
    first = refund_split(315, 39, [], 100)
    assert first == Split(88, 12)
    second = refund_split(315, 39, [first], 100)
    assert second == Split(87, 13)  # 25 after 2.00 (24.76 → 25), minus the 12 already returned
    last = refund_split(315, 39, [first, second], 115)
    assert last == Split(101, 14) and first.fee_share + second.fee_share + last.fee_share == 39
    assert refundable(315, [first, second, last]) == 0


def test_retain_keeps_the_fee_until_the_sellers_share_is_used_up():
    assert refund_split(1000, 60, [], 500, RefundPolicy.RETAIN) == Split(500, 0)
    first = Split(500, 0)
    assert refund_split(1000, 60, [first], 500, RefundPolicy.RETAIN) == Split(440, 60)


def test_refunds_outside_what_is_left_are_refused():
    with pytest.raises(ValueError):
        refund_split(315, 39, [], 316)
    with pytest.raises(ValueError):
        refund_split(315, 39, [Split(276, 39)], 1)
    with pytest.raises(ValueError):
        refund_split(315, 39, [], 0)


@st.composite
def refund_histories(draw):
    captured = draw(st.integers(1, 10**9))
    fee = draw(st.integers(0, captured))
    policy = draw(st.sampled_from(list(RefundPolicy)))
    steps = draw(st.lists(st.tuples(st.integers(1, 10**9), st.booleans()), max_size=12))
    return captured, fee, policy, steps


@given(refund_histories())
def test_no_minor_unit_is_lost_or_created_across_partial_and_failed_refunds(history):
    """Any sequence of partial refunds, some failing afterwards (their split no longer counts)."""
    captured, fee, policy, steps = history
    active: list[Split] = []
    for amount, fails in steps:
        left = refundable(captured, active)
        if left == 0:
            break
        amount = 1 + amount % left
        split = refund_split(captured, fee, active, amount, policy)
        assert split.amount == amount and split.seller_share >= 0 and split.fee_share >= 0
        active.append(split)
        assert sum(s.seller_share for s in active) <= captured - fee
        assert sum(s.fee_share for s in active) <= fee
        if fails:
            active.remove(split)
    left = refundable(captured, active)
    if left:
        active.append(refund_split(captured, fee, active, left, policy))
    assert sum(s.seller_share for s in active) == captured - fee  # everything refunded: each got back exactly its part
    assert sum(s.fee_share for s in active) == fee


@given(captured=st.integers(1, 10**9), fee_fraction=st.floats(0, 1), cuts=st.lists(st.integers(1, 10**6), max_size=8))
def test_proportional_fee_share_tracks_the_refunded_fraction_within_a_minor_unit(captured, fee_fraction, cuts):
    fee = int(captured * fee_fraction)
    active: list[Split] = []
    for cut in cuts:
        left = refundable(captured, active)
        if not left:
            break
        active.append(refund_split(captured, fee, active, 1 + cut % left))
        refunded = sum(s.amount for s in active)
        assert abs(sum(s.fee_share for s in active) * captured - fee * refunded) <= captured


@pytest.mark.parametrize("amount", [-1, -500, 1.0, 2.5, "100", None])
def test_platform_fee_refuses_negative_or_non_integer_amounts(amount):
    """A float or negative amount must never reach the split of an order's money."""
    with pytest.raises(ValueError) as raised:
        platform_fee(amount, FeeSchedule(300, 30))
    assert str(raised.value) == f"amount must be a non-negative integer of minor units, got {amount!r}"


def test_round_half_up_div_refuses_a_zero_or_negative_denominator():
    for numerator, denominator in [(1, 0), (0, 0), (1, -2), (-1, 4)]:
        with pytest.raises(ValueError) as raised:
            round_half_up_div(numerator, denominator)
        assert str(raised.value) == "round_half_up_div takes a non-negative numerator and a positive denominator"
    assert round_half_up_div(0, 1) == 0 and round_half_up_div(5, 1) == 5


@pytest.mark.parametrize(("bps", "fixed", "param", "message"), [
    (-1, 0, "bps", "Fee basis points must be an integer from 0 to 10000."),
    (10_001, 0, "bps", "Fee basis points must be an integer from 0 to 10000."),
    (2.5, 0, "bps", "Fee basis points must be an integer from 0 to 10000."),
    (100, -1, "fixed", "The fixed fee must be a non-negative integer of minor units."),
    (100, 0.5, "fixed", "The fixed fee must be a non-negative integer of minor units."),
])
def test_fee_schedule_refusals_name_the_field(bps, fixed, param, message):
    with pytest.raises(ValidationError) as raised:
        FeeSchedule(bps, fixed)
    assert (raised.value.code, raised.value.param, raised.value.message) == ("parameter_invalid", param, message)


def test_fee_schedule_bounds_are_inclusive_and_described_in_percent():
    assert FeeSchedule(0, 0).describe() == "0% + 0 minor units"
    assert FeeSchedule(10_000, 0).describe() == "100% + 0 minor units"
    assert FeeSchedule(250, 30).describe() == "2.5% + 30 minor units"
    assert FeeSchedule(1, 5).describe() == "0.01% + 5 minor units"


def test_refund_split_refusals_explain_themselves():
    with pytest.raises(ValueError) as raised:
        refund_split(100, 101, [], 10)
    assert str(raised.value) == "the fee must lie between 0 and the captured amount"
    with pytest.raises(ValueError) as raised:
        refund_split(100, -1, [], 10)
    assert str(raised.value) == "the fee must lie between 0 and the captured amount"
    with pytest.raises(ValueError) as raised:
        refund_split(315, 39, [Split(88, 12)], 216)
    assert str(raised.value) == "refund of 216 outside 1..215"


def test_the_whole_order_refunded_at_once_returns_the_whole_fee_under_either_policy():
    for policy in RefundPolicy:
        assert refund_split(1000, 60, [], 1000, policy) == Split(940, 60)
    assert refund_split(1000, 0, [], 1000) == Split(1000, 0) and refund_split(50, 50, [], 20) == Split(0, 20)


def test_only_the_available_side_of_a_wallet_may_go_negative():
    """After a payout the seller's money is at its bank, so a refund may leave a debt on the available side; the
    pending side holds exactly the shares not yet paid and never goes below zero."""
    assert may_go_negative(Funds.AVAILABLE) and not may_go_negative(Funds.PENDING)
