"""Refund statuses: every pair, the money each move means, order independence, and request parsing."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.errors import ValidationError
from webapp.domain.refunds import (
    ACTIVE,
    LedgerEffect,
    RefundRequest,
    RefundStatus,
    from_psp,
    next_status,
)

R = RefundStatus
MOVES = {  # (current, reported) -> (next, ledger effect)
    (R.REQUESTED, R.PENDING): (R.PENDING, None),
    (R.REQUESTED, R.SUCCEEDED): (R.SUCCEEDED, LedgerEffect.PAID),
    (R.REQUESTED, R.FAILED): (R.FAILED, LedgerEffect.RELEASED),
    (R.REQUESTED, R.CANCELED): (R.CANCELED, LedgerEffect.RELEASED),
    (R.PENDING, R.SUCCEEDED): (R.SUCCEEDED, LedgerEffect.PAID),
    (R.PENDING, R.FAILED): (R.FAILED, LedgerEffect.RELEASED),
    (R.PENDING, R.CANCELED): (R.CANCELED, LedgerEffect.RELEASED),
    (R.SUCCEEDED, R.FAILED): (R.FAILED, LedgerEffect.RETURNED),  # a bounce after the money left
}


@pytest.mark.parametrize("current, reported", list(itertools.product(R, R)))
def test_every_pair(current, reported):
    transition = next_status(current, reported)
    expected, effect = MOVES.get((current, reported), (current, None))
    assert transition.after is expected and transition.effect == effect


def test_psp_statuses():
    assert [from_psp(s) for s in ("pending", "requires_action", "succeeded", "failed", "canceled", "weird", None)] \
        == [R.PENDING, R.PENDING, R.SUCCEEDED, R.FAILED, R.CANCELED, None, None]
    assert frozenset({R.REQUESTED, R.PENDING, R.SUCCEEDED}) == ACTIVE


@given(st.permutations([R.PENDING, R.SUCCEEDED, R.FAILED]), st.lists(st.sampled_from([R.PENDING, R.SUCCEEDED]),
                                                                        max_size=4))
def test_news_in_any_order_ends_the_same_and_moves_the_money_once(order, duplicates):
    """A refund that bounced: pending, succeeded and failed arrive in any order, some twice."""
    status, effects = R.REQUESTED, []
    for reported in [*order, *duplicates]:
        transition = next_status(status, reported)
        status = transition.after
        if transition.effect:
            effects.append(transition.effect)
    assert status is R.FAILED
    # Net money: either reserved → released, or reserved → paid → returned; never paid without coming back.
    assert effects in ([LedgerEffect.RELEASED], [LedgerEffect.PAID, LedgerEffect.RETURNED])


def test_refund_request_parsing():
    parsed = RefundRequest.from_json({"payment_order_id": "o-1", "amount": "1.00", "reason": "duplicate"})
    assert (parsed.payment_order_id, parsed.amount, parsed.reason) == ("o-1", "1.00", "duplicate")
    assert RefundRequest.from_json({"amount": "1.00", "payment_order_id": "o-1", "reason": "duplicate"}
                                   ).request_hash == parsed.request_hash
    assert RefundRequest.from_json({"payment_order_id": "o-1"}).amount is None
    for body, param in [([], None), ({}, "payment_order_id"), ({"payment_order_id": 5}, "payment_order_id"),
                        ({"payment_order_id": "o", "amount": 1.5}, "amount"),
                        ({"payment_order_id": "o", "reason": "x"}, "reason"),
                        ({"payment_order_id": "o", "card": "4242"}, "card")]:
        with pytest.raises(ValidationError) as raised:
            RefundRequest.from_json(body)
        assert raised.value.param == param
