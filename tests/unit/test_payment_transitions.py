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


@pytest.mark.parametrize(("current", "outcome"), list(itertools.product(S, Outcome)))
def test_a_transition_reports_where_it_came_from(current, outcome):
    """Services act on `.changed`: an outcome that moves nothing (stale or backwards) must not report a change."""
    for outcome_attempt in (1, 2):
        transition = next_status(current, outcome, outcome_attempt=outcome_attempt, current_attempt=2)
        assert transition.before is current
        assert transition.changed == (transition.after is not current)


def test_stale_news_changes_nothing_but_money_taken_always_counts():
    stale = next_status(S.EXECUTING, Outcome.EXPIRED, outcome_attempt=1, current_attempt=2)
    assert (stale.before, stale.after, stale.changed) == (S.EXECUTING, S.EXECUTING, False)
    paid = next_status(S.FAILED, Outcome.PAID, outcome_attempt=1, current_attempt=2)
    assert (paid.before, paid.after, paid.changed) == (S.FAILED, S.SUCCESS, True)


@pytest.mark.parametrize(("status", "payment_status", "event_type", "intent", "expected"), [
    ("complete", "unpaid", "checkout.session.async_payment_succeeded", None, Outcome.PAID),  # the event says so
    ("complete", "unpaid", None, "canceled", Outcome.PAYMENT_FAILED),
    ("complete", "no_payment_required", None, None, Outcome.COMPLETED_UNPAID),
    ("expired", "paid", None, None, Outcome.PAID),  # money taken wins over anything else
    (None, None, None, None, None),
])
def test_more_sessions_translate_into_outcomes(status, payment_status, event_type, intent, expected):
    assert outcome_of_session(status, payment_status, event_type=event_type, intent_status=intent) is expected


CONNECTING = "Connecting to the payment provider…"
PAGES = [  # (status, attempt, has_session_url, failure_code, retrying) -> (state, label, message, can_retry)
    ((S.NOT_STARTED, 0, False, None, False), ("ready", "Ready to pay", "Review your order and press Pay.", True)),
    ((S.NOT_STARTED, 0, True, None, False), ("ready", "Ready to pay", "Review your order and press Pay.", True)),
    ((S.NOT_STARTED, 1, False, None, False), ("connecting", "Connecting", CONNECTING, False)),
    ((S.NOT_STARTED, 2, True, None, True),
     ("connecting", "Connecting", "The payment provider is not responding; retrying…", False)),
    ((S.EXECUTING, 1, False, None, False), ("connecting", "Connecting", CONNECTING, False)),
    ((S.EXECUTING, 1, True, None, False),
     ("redirect", "Redirecting", "Taking you to the secure payment page…", False)),
    ((S.PENDING, 1, True, None, False),
     ("pending", "Pending", "Your payment is being confirmed by your bank. This page updates by itself; you can also "
      "close it: the shop sees the payment once it is confirmed.", False)),
    ((S.FAILED, 1, True, "expired", False),
     ("failed", "Failed", "The payment page expired before the payment was completed. You can try again.", True)),
    ((S.FAILED, 1, True, "payment_failed", False),
     ("failed", "Failed", "Your bank did not approve the payment. You can try again.", True)),
    ((S.FAILED, 1, False, "psp_unavailable", False),
     ("failed", "Failed", "The payment provider could not be reached. No money was taken. You can try again.", True)),
    ((S.FAILED, 1, True, None, False),
     ("failed", "Failed", "The payment did not go through. You can try again.", True)),
    ((S.FAILED, 1, True, "card_declined", False),
     ("failed", "Failed", "The payment did not go through. You can try again.", True)),
    ((S.SUCCESS, 1, True, None, False), ("paid", "Paid", "Payment received. Thank you!", False)),
    ((S.SUCCESS, 2, False, "expired", True), ("paid", "Paid", "Payment received. Thank you!", False)),
]


@pytest.mark.parametrize(("given", "shown"), PAGES)
def test_the_buyers_page_for_every_state(given, shown):
    """Only a checkout that has not started or whose attempt failed offers to pay (again); a paid one never."""
    status, attempt, has_session_url, failure_code, retrying = given
    page = buyer_state(status, attempt=attempt, has_session_url=has_session_url, failure_code=failure_code,
                       retrying=retrying)
    assert (page.state, page.label, page.message, page.can_retry) == shown
    assert can_start_attempt(status) or not page.can_retry  # the page never offers what the server would refuse


def test_the_buyers_page_is_not_retrying_unless_told():
    page = buyer_state(S.NOT_STARTED, attempt=1, has_session_url=False, failure_code=None)
    assert page.message == CONNECTING
