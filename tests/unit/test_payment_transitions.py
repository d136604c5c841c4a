"""The status table: every (status, outcome) pair, stale attempts, and order independence."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.payments import (
    FORWARD,
    OrderStatus,
    Outcome,
    buyer_state,
    can_start_attempt,
    next_status,
    outcome_of_session,
)

S = OrderStatus
EXPECTED = {  # (current, outcome) -> next, for news about the current attempt
    (S.NOT_STARTED, Outcome.SESSION_OPENED): S.EXECUTING,
    (S.NOT_STARTED, Outcome.COMPLETED_UNPAID): S.PENDING,
    (S.NOT_STARTED, Outcome.PAID): S.SUCCESS,
    (S.NOT_STARTED, Outcome.PAYMENT_FAILED): S.FAILED,
    (S.NOT_STARTED, Outcome.EXPIRED): S.FAILED,
    (S.NOT_STARTED, Outcome.PSP_UNAVAILABLE): S.FAILED,
    (S.EXECUTING, Outcome.SESSION_OPENED): S.EXECUTING,
    (S.EXECUTING, Outcome.COMPLETED_UNPAID): S.PENDING,
    (S.EXECUTING, Outcome.PAID): S.SUCCESS,
    (S.EXECUTING, Outcome.PAYMENT_FAILED): S.FAILED,
    (S.EXECUTING, Outcome.EXPIRED): S.FAILED,
    (S.EXECUTING, Outcome.PSP_UNAVAILABLE): S.FAILED,
    (S.PENDING, Outcome.SESSION_OPENED): S.PENDING,
    (S.PENDING, Outcome.COMPLETED_UNPAID): S.PENDING,
    (S.PENDING, Outcome.PAID): S.SUCCESS,
    (S.PENDING, Outcome.PAYMENT_FAILED): S.FAILED,
    (S.PENDING, Outcome.EXPIRED): S.FAILED,
    (S.PENDING, Outcome.PSP_UNAVAILABLE): S.FAILED,
    (S.FAILED, Outcome.SESSION_OPENED): S.FAILED,
    (S.FAILED, Outcome.COMPLETED_UNPAID): S.FAILED,
    (S.FAILED, Outcome.PAID): S.SUCCESS,
    (S.FAILED, Outcome.PAYMENT_FAILED): S.FAILED,
    (S.FAILED, Outcome.EXPIRED): S.FAILED,
    (S.FAILED, Outcome.PSP_UNAVAILABLE): S.FAILED,
    **{(S.SUCCESS, outcome): S.SUCCESS for outcome in Outcome},
}


@pytest.mark.parametrize(("current", "outcome"), list(itertools.product(S, Outcome)))
def test_every_pair_for_the_current_attempt(current, outcome):
    transition = next_status(current, outcome, outcome_attempt=1, current_attempt=1)
    assert transition.after == EXPECTED[(current, outcome)]
    assert transition.changed == (transition.after != current)


@pytest.mark.parametrize(("current", "outcome"), list(itertools.product(S, Outcome)))
def test_news_of_an_older_attempt_only_counts_when_money_was_taken(current, outcome):
    after = next_status(current, outcome, outcome_attempt=1, current_attempt=2).after
    assert after == (S.SUCCESS if outcome is Outcome.PAID else current)


def test_nothing_ever_moves_backwards():
    rank = list(S)
    for current, outcome in itertools.product(S, Outcome):
        after = next_status(current, outcome, outcome_attempt=1, current_attempt=1).after
        assert rank.index(after) >= rank.index(current)
        assert after == current or after in FORWARD[current]


@given(st.lists(st.sampled_from(list(Outcome)), min_size=1, max_size=8))
def test_any_delivery_order_ends_in_the_same_state(outcomes):
    finals = set()
    for order in itertools.islice(itertools.permutations(outcomes), 50):
        status = S.EXECUTING
        for outcome in order:
            status = next_status(status, outcome, outcome_attempt=1, current_attempt=1).after
        finals.add(status)
    assert len(finals) == 1


@given(st.lists(st.sampled_from(list(Outcome)), max_size=6))
def test_duplicates_change_nothing(outcomes):
    once = twice = S.EXECUTING
    for outcome in outcomes:
        once = next_status(once, outcome, outcome_attempt=1, current_attempt=1).after
        for _ in range(2):
            twice = next_status(twice, outcome, outcome_attempt=1, current_attempt=1).after
    assert once == twice


def test_only_not_started_and_failed_checkouts_can_start_an_attempt():
    assert {s for s in S if can_start_attempt(s)} == {S.NOT_STARTED, S.FAILED}


@pytest.mark.parametrize(("status", "payment_status", "event_type", "intent", "expected"), [
    ("complete", "paid", "checkout.session.completed", None, Outcome.PAID),
    ("complete", "unpaid", "checkout.session.completed", None, Outcome.COMPLETED_UNPAID),
    ("complete", "paid", "checkout.session.async_payment_succeeded", None, Outcome.PAID),
    ("complete", "unpaid", "checkout.session.async_payment_failed", None, Outcome.PAYMENT_FAILED),
    ("expired", "unpaid", "checkout.session.expired", None, Outcome.EXPIRED),
    ("open", "unpaid", None, None, None),
    ("complete", "unpaid", None, "processing", Outcome.COMPLETED_UNPAID),
    ("complete", "unpaid", None, "requires_payment_method", Outcome.PAYMENT_FAILED),
    ("complete", "paid", None, "succeeded", Outcome.PAID),
])
def test_sessions_translate_into_outcomes(status, payment_status, event_type, intent, expected):
    assert outcome_of_session(status, payment_status, event_type=event_type, intent_status=intent) is expected


def test_buyer_sees_what_happens_next():
    assert buyer_state(S.NOT_STARTED, attempt=0, has_session_url=False, failure_code=None).state == "ready"
    assert buyer_state(S.NOT_STARTED, attempt=1, has_session_url=False, failure_code=None).state == "connecting"
    retrying = buyer_state(S.NOT_STARTED, attempt=1, has_session_url=False, failure_code=None, retrying=True)
    assert "not responding" in retrying.message
    assert buyer_state(S.EXECUTING, attempt=1, has_session_url=True, failure_code=None).state == "redirect"
    pending = buyer_state(S.PENDING, attempt=1, has_session_url=True, failure_code=None)
    assert (pending.label, pending.can_retry) == ("Pending", False)
    failed = buyer_state(S.FAILED, attempt=1, has_session_url=True, failure_code="expired")
    assert failed.can_retry and "expired" in failed.message
    assert buyer_state(S.SUCCESS, attempt=1, has_session_url=True, failure_code=None).label == "Paid"
