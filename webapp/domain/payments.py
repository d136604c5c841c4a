"""Statuses of payment orders and the one table of moves between them.

A checkout (payment event) holds several payment orders; one PSP Checkout Session pays them all, so
every order of a checkout moves together. Statuses:

- NOT_STARTED: created by the merchant's API call; the buyer has not pressed "Pay" yet.
- EXECUTING: a PSP session is being registered or is open; the buyer is on the PSP's page.
- PENDING: the buyer finished, but the money is still settling (3-D Secure, bank transfer).
- FAILED: this attempt did not take the money (declined asynchronously, session expired, PSP down).
  The buyer may try again, which starts a new attempt with a new PSP session.
- SUCCESS: the money was taken. Nothing moves an order out of SUCCESS.

Within one attempt an order only moves forward in the order NOT_STARTED < EXECUTING < PENDING < FAILED
< SUCCESS, so a late or repeated event can never downgrade it and any delivery order ends in the same
state. Only an explicit retry by the buyer (a new attempt) leaves FAILED, and only outcomes of the
current attempt count, except "paid", which counts from any attempt because the money was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OrderStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    EXECUTING = "EXECUTING"
    PENDING = "PENDING"
    FAILED = "FAILED"
    SUCCESS = "SUCCESS"


class Outcome(StrEnum):
    """What the PSP reported about one attempt (one Checkout Session)."""

    SESSION_OPENED = "session_opened"      # we registered the session; the buyer can pay
    COMPLETED_UNPAID = "completed_unpaid"  # checkout.session.completed, payment_status=unpaid
    PAID = "paid"                          # completed+paid, or async_payment_succeeded
    PAYMENT_FAILED = "payment_failed"      # async_payment_failed
    EXPIRED = "expired"                    # checkout.session.expired
    PSP_UNAVAILABLE = "psp_unavailable"    # registering the session kept failing


_TARGET = {
    Outcome.SESSION_OPENED: OrderStatus.EXECUTING,
    Outcome.COMPLETED_UNPAID: OrderStatus.PENDING,
    Outcome.PAID: OrderStatus.SUCCESS,
    Outcome.PAYMENT_FAILED: OrderStatus.FAILED,
    Outcome.EXPIRED: OrderStatus.FAILED,
    Outcome.PSP_UNAVAILABLE: OrderStatus.FAILED,
}

_RANK = {status: rank for rank, status in enumerate(OrderStatus)}

# Every allowed move within one attempt: forward in rank only.
FORWARD: dict[OrderStatus, frozenset[OrderStatus]] = {
    status: frozenset(s for s in OrderStatus if _RANK[s] > _RANK[status]) for status in OrderStatus
}

RETRYABLE = frozenset({OrderStatus.NOT_STARTED, OrderStatus.FAILED})


@dataclass(frozen=True)
class Transition:
    before: OrderStatus
    after: OrderStatus

    @property
    def changed(self) -> bool:
        return self.before != self.after


def next_status(current: OrderStatus, outcome: Outcome, *, outcome_attempt: int, current_attempt: int) -> Transition:
    """Where an order in `current` goes when `outcome` is reported for attempt `outcome_attempt`."""
    target = _TARGET[outcome]
    stale = outcome_attempt != current_attempt
    if stale and target is not OrderStatus.SUCCESS:
        return Transition(current, current)  # an older session's news, except money taken, changes nothing
    if target in FORWARD[current]:
        return Transition(current, target)
    return Transition(current, current)


def can_start_attempt(current: OrderStatus) -> bool:
    """The buyer may start a (new) attempt: nothing started yet, or the last attempt failed."""
    return current in RETRYABLE


def outcome_of_session(status: str | None, payment_status: str | None, *, event_type: str | None = None,
                       intent_status: str | None = None) -> Outcome | None:
    """Translate a Checkout Session (and the event that carried it, or its PaymentIntent) into an outcome.

    Stripe's rule: fulfil when `payment_status` is `paid`; `completed` with `unpaid` means a delayed
    method is still settling; `async_payment_failed` ends it; `expired` sessions were never paid. A
    polled session carries no event type, so its PaymentIntent tells whether a delayed payment failed.
    """
    if event_type == "checkout.session.async_payment_failed":
        return Outcome.PAYMENT_FAILED
    if payment_status == "paid" or event_type == "checkout.session.async_payment_succeeded":
        return Outcome.PAID
    if status == "complete":
        if intent_status in ("requires_payment_method", "canceled"):
            return Outcome.PAYMENT_FAILED
        return Outcome.COMPLETED_UNPAID
    if status == "expired":
        return Outcome.EXPIRED
    return None


FAILURE_MESSAGES = {
    "expired": "The payment page expired before the payment was completed.",
    "payment_failed": "Your bank did not approve the payment.",
    "psp_unavailable": "The payment provider could not be reached. No money was taken.",
}


@dataclass(frozen=True)
class BuyerState:
    """What the buyer's page shows: `state` is ready, connecting, redirect, pending, paid or failed."""

    state: str
    label: str
    message: str
    can_retry: bool


# The buyer came back to the checkout page (Back, or the link again) while its payment page is still open: nothing
# is redirecting them, so the page must not say "Redirecting"; it offers to continue to the payment page.
RESUME = BuyerState("redirect", "Payment page open", "You started paying on the secure payment page. Continue there "
                    "to finish; nothing has been charged yet.", False)


def buyer_state(status: OrderStatus, *, attempt: int, has_session_url: bool, failure_code: str | None,
                retrying: bool = False) -> BuyerState:
    if status is OrderStatus.SUCCESS:
        return BuyerState("paid", "Paid", "Payment received. Thank you!", False)
    if status is OrderStatus.PENDING:
        return BuyerState("pending", "Pending", "Your payment is being confirmed by your bank. This page updates "
                          "by itself; you can also close it: the shop sees the payment once it is confirmed.", False)
    if status is OrderStatus.FAILED:
        message = FAILURE_MESSAGES.get(failure_code or "", "The payment did not go through.")
        return BuyerState("failed", "Failed", f"{message} You can try again.", True)
    if status is OrderStatus.EXECUTING and has_session_url:
        return BuyerState("redirect", "Redirecting", "Taking you to the secure payment page…", False)
    if attempt > 0:
        message = ("The payment provider is not responding; retrying…" if retrying
                   else "Connecting to the payment provider…")
        return BuyerState("connecting", "Connecting", message, False)
    return BuyerState("ready", "Ready to pay", "Review your order and press Pay.", True)
