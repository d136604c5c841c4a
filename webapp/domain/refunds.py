"""Refund statuses and the one table of moves between them, with the ledger effect of each move.

- REQUESTED: accepted by us; the seller's share and the platform's fee share are reserved; the PSP has not
  answered yet (an outbox job creates the refund there with a key derived from our refund's id).
- PENDING: the PSP accepted it and is still sending the money back (Stripe: `pending`, `requires_action`).
- SUCCEEDED: the PSP paid it out of the platform's balance.
- FAILED: the PSP could not refund (rejected at once, or the refund bounced later, even after SUCCEEDED);
  what was reserved goes back to the seller and the platform.
- CANCELED: canceled before it was paid; like FAILED for the money.

News may come twice, late or out of order: a refund only moves forward (REQUESTED < PENDING < SUCCEEDED <
FAILED/CANCELED), FAILED and CANCELED are final, and SUCCEEDED only gives way to FAILED (a bounce).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from webapp.domain.errors import ValidationError


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


FORWARD: dict[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.REQUESTED: frozenset({RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.FAILED,
                                       RefundStatus.CANCELED}),
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.CANCELED}),
    RefundStatus.SUCCEEDED: frozenset({RefundStatus.FAILED}),
    RefundStatus.FAILED: frozenset(),
    RefundStatus.CANCELED: frozenset(),
}
ACTIVE = frozenset({RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.SUCCEEDED})
FINAL = frozenset({RefundStatus.FAILED, RefundStatus.CANCELED})

# Stripe's refund statuses onto ours.
_FROM_PSP = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def from_psp(status: str | None) -> RefundStatus | None:
    return _FROM_PSP.get(status or "")


class LedgerEffect(StrEnum):
    PAID = "paid"          # refunds in flight → out of the PSP's available balance
    RELEASED = "released"  # reservation back to the wallet and fee revenue
    RETURNED = "returned"  # a paid refund bounced: the money is back at the PSP, then in the wallet


@dataclass(frozen=True)
class Transition:
    before: RefundStatus
    after: RefundStatus

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def effect(self) -> LedgerEffect | None:
        if not self.changed:
            return None
        if self.after is RefundStatus.SUCCEEDED:
            return LedgerEffect.PAID
        if self.after in FINAL:
            return LedgerEffect.RETURNED if self.before is RefundStatus.SUCCEEDED else LedgerEffect.RELEASED
        return None


def next_status(current: RefundStatus, reported: RefundStatus) -> Transition:
    """Where a refund in `current` goes when the PSP reports `reported`."""
    if reported in FORWARD[current]:
        return Transition(current, reported)
    return Transition(current, current)


_FIELDS = {"payment_order_id", "amount", "reason"}


@dataclass(frozen=True)
class RefundRequest:
    """A merchant's refund request: which payment order, how much (None: all that is left), and why."""

    payment_order_id: str
    amount: str | None
    reason: str | None
    request_hash: str

    @classmethod
    def from_json(cls, document: object) -> RefundRequest:
        if not isinstance(document, dict):
            raise ValidationError("The request body must be a JSON object.")
        for key in document:
            if key not in _FIELDS:
                raise ValidationError(f"Received unknown parameter: {key}.", param=key, code="parameter_unknown")
        order_id = document.get("payment_order_id")
        if order_id in (None, ""):
            raise ValidationError("Missing required param: payment_order_id.", param="payment_order_id",
                                  code="parameter_missing")
        if not isinstance(order_id, str) or len(order_id) > 255:
            raise ValidationError("payment_order_id must be the id of one of the payment's orders.",
                                  param="payment_order_id")
        amount = document.get("amount")
        if amount is not None and (not isinstance(amount, str) or not amount.strip()):
            # Leave `amount` out to refund everything still refundable; an empty one is a mistake, not "all".
            raise ValidationError("amount must be a decimal string such as \"3.15\".", param="amount",
                                  code="amount_invalid")
        reason = document.get("reason")
        if reason is not None and reason not in REASONS:
            raise ValidationError(f"reason must be one of {', '.join(REASONS)}.", param="reason")
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return cls(order_id, amount, reason, hashlib.sha256(canonical.encode()).hexdigest())
