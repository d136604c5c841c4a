"""The platform fee's rounding rule and the split of refunds: no minor unit lost or created."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.errors import ValidationError
from webapp.domain.wallets import (
    FeeSchedule,
    RefundPolicy,
    Split,
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
