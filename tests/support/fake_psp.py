"""A PSP in memory, with the port's Protocol (webapp.psp.Psp), for unit tests of the money services.

It keeps charges (fee 2.9 % + 30, available two days after `now`), refunds (created `succeeded`, the PSP
key-deduplicated like Stripe) and builds the webhook events Stripe would send about them."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from webapp.psp import (
    ChargeFunds,
    CheckoutSession,
    NewCheckoutSession,
    NewRefund,
    Notice,
    PspRefund,
    PspRefundStatus,
    PspRejected,
)

DAY = 86_400


@dataclass
class FakePsp:
    now: int = 1_800_000_000
    charges: dict[str, ChargeFunds] = field(default_factory=dict)  # by PaymentIntent id
    refunds: dict[str, PspRefund] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    # Driving it from a test.

    def charge(self, payment_intent_id: str, amount: int, currency: str) -> ChargeFunds:
        fee = round(amount * 0.029) + 30
        funds = ChargeFunds(self._id("ch"), payment_intent_id, amount, currency, self._id("txn"), fee, amount - fee,
                            self.now + 2 * DAY, False)
        self.charges[payment_intent_id] = funds
        return funds

    def advance(self, seconds: int) -> None:
        self.now += seconds
        for intent, funds in self.charges.items():
            if funds.available_on <= self.now:
                self.charges[intent] = replace(funds, available=True)

    def bounce(self, refund_id: str) -> PspRefund:
        """The refund fails after it succeeded (Stripe's 4000 0000 0000 5126)."""
        self.refunds[refund_id] = replace(self.refunds[refund_id], status=PspRefundStatus.FAILED,
                                          failure_reason="expired_or_canceled_card")
        return self.refunds[refund_id]

    def event(self, event_type: str, obj: dict) -> dict:
        return {"id": self._id("evt"), "object": "event", "type": event_type, "created": self.now,
                "data": {"object": obj}}

    @staticmethod
    def refund_object(refund: PspRefund) -> dict:
        return {"id": refund.id, "object": "refund", "status": refund.status, "amount": refund.amount,
                "currency": refund.currency.lower(), "payment_intent": refund.payment_intent_id,
                "failure_reason": refund.failure_reason, "metadata": dict(refund.metadata)}

    # The port.

    def create_checkout_session(self, request: NewCheckoutSession) -> CheckoutSession:
        raise PspRejected("the fake PSP takes no checkout sessions")

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        raise PspRejected(f"No such checkout session: {session_id}")

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        raise PspRejected(f"No such checkout session: {session_id}")

    def verify_webhook(self, payload: bytes, signature_header: str | None, parsed: Any = None) -> Notice:
        raise PspRejected("the fake PSP sends no webhooks over HTTP")

    def retrieve_charge_funds(self, payment_intent_id: str) -> ChargeFunds:
        with self._lock:
            self.calls.append(f"charge {payment_intent_id}")
            if payment_intent_id not in self.charges:
                raise PspRejected(f"PaymentIntent {payment_intent_id} has no succeeded charge")
            return self.charges[payment_intent_id]

    def create_refund(self, request: NewRefund) -> PspRefund:
        with self._lock:
            self.calls.append(f"refund {request.idempotency_key}")
            if request.idempotency_key in self.by_key:  # Stripe replays the first answer for the same key
                return self.refunds[self.by_key[request.idempotency_key]]
            charge = self.charges[request.payment_intent_id]
            refunded = sum(r.amount for r in self.refunds.values()
                           if r.payment_intent_id == request.payment_intent_id
                           and r.status is not PspRefundStatus.FAILED)
            if refunded + request.amount > charge.amount:
                raise PspRejected("Refund amount is greater than unrefunded amount on charge.", code="amount_too_large")
            refund = PspRefund(self._id("re"), PspRefundStatus.SUCCEEDED, request.amount, charge.currency,
                               request.payment_intent_id, None, dict(request.metadata))
            self.refunds[refund.id] = refund
            self.by_key[request.idempotency_key] = refund.id
            return refund

    def list_refunds(self, payment_intent_id: str) -> list[PspRefund]:
        with self._lock:
            return [r for r in self.refunds.values() if r.payment_intent_id == payment_intent_id]
