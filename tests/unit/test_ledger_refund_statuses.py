"""Refund statuses: every pair, the money each move means, order independence, and request parsing."""

import hashlib
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


REFUND_REFUSALS = [  # (body, code, param, message)
    ("order-1", "parameter_invalid", None, "The request body must be a JSON object."),
    ({"payment_order_id": "o", "currency": "usd"}, "parameter_unknown", "currency",
     "Received unknown parameter: currency."),
    ({}, "parameter_missing", "payment_order_id", "Missing required param: payment_order_id."),
    ({"payment_order_id": ""}, "parameter_missing", "payment_order_id", "Missing required param: payment_order_id."),
    ({"payment_order_id": None}, "parameter_missing", "payment_order_id", "Missing required param: payment_order_id."),
    ({"payment_order_id": ["o"]}, "parameter_invalid", "payment_order_id",
     "payment_order_id must be the id of one of the payment's orders."),
    ({"payment_order_id": "o" * 256}, "parameter_invalid", "payment_order_id",
     "payment_order_id must be the id of one of the payment's orders."),
    ({"payment_order_id": "o", "amount": 100}, "amount_invalid", "amount",
     "amount must be a decimal string such as \"3.15\"."),
    ({"payment_order_id": "o", "reason": "changed_mind"}, "parameter_invalid", "reason",
     "reason must be one of duplicate, fraudulent, requested_by_customer."),
]


@pytest.mark.parametrize(("body", "code", "param", "message"), REFUND_REFUSALS)
def test_refund_request_refusals_name_their_code_param_and_reason(body, code, param, message):
    with pytest.raises(ValidationError) as raised:
        RefundRequest.from_json(body)
    assert (raised.value.code, raised.value.param, raised.value.message) == (code, param, message)


def test_refund_request_limits_and_defaults():
    longest = RefundRequest.from_json({"payment_order_id": "o" * 255, "reason": None})
    assert (longest.payment_order_id, longest.amount, longest.reason) == ("o" * 255, None, None)  # absent: all
    for empty in ("", " "):  # an empty amount is a mistake, never "everything"
        with pytest.raises(ValidationError) as info:
            RefundRequest.from_json({"payment_order_id": "o", "amount": empty})
        assert info.value.param == "amount"
    for reason in ("duplicate", "fraudulent", "requested_by_customer"):
        assert RefundRequest.from_json({"payment_order_id": "o", "reason": reason}).reason == reason


def test_refund_request_hash_tells_replays_from_different_requests():
    """The hash decides whether a repeated Idempotency-Key carries the same refund: the amount, the order and the
    reason count, key order and spacing do not; its canonical form must stay stable across releases."""
    body = {"payment_order_id": "o-1", "amount": "1.00", "reason": "requested_by_customer"}
    digest = RefundRequest.from_json(body).request_hash
    canonical = '{"amount":"1.00","payment_order_id":"o-1","reason":"requested_by_customer"}'
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()
    assert digest == RefundRequest.from_json(dict(reversed(list(body.items())))).request_hash
    for change in ({"amount": "1.01"}, {"payment_order_id": "o-2"}, {"reason": "duplicate"}):
        assert RefundRequest.from_json({**body, **change}).request_hash != digest
    assert RefundRequest.from_json({"payment_order_id": "é"}).request_hash == hashlib.sha256(
        '{"payment_order_id":"é"}'.encode()).hexdigest()
