"""Money-flow metrics, counted when the change is committed: a rolled-back transaction counts nothing.

Services call `reached()` where a payment, payment order, refund or payout moves to a status, and
`event_applied()` where a PSP event is applied; the counters move after the outermost commit (see
webapp.services.after_commit). Within one transaction an object counts once per status, so a batch that is
retried one item at a time after a failure does not count twice.
"""

from __future__ import annotations

import time
from enum import StrEnum

from prometheus_client import Counter

from webapp.ops import metrics
from webapp.services import after_commit


class Flow(StrEnum):
    PAYMENT = "payment"
    PAYMENT_ORDER = "payment_order"
    REFUND = "refund"
    PAYOUT = "payout"


_FAMILIES: dict[Flow, tuple[Counter, Counter]] = {
    Flow.PAYMENT: (metrics.PAYMENTS, metrics.PAYMENTS_AMOUNT),
    Flow.PAYMENT_ORDER: (metrics.PAYMENT_ORDERS, metrics.PAYMENT_ORDERS_AMOUNT),
    Flow.REFUND: (metrics.REFUNDS, metrics.REFUNDS_AMOUNT),
    Flow.PAYOUT: (metrics.PAYOUTS, metrics.PAYOUTS_AMOUNT),
}


def reached(flow: Flow, object_id: str, status: str, currency: str, amount_minor: int) -> None:
    """`object_id` moved to `status` in the current transaction; counted (with its amount) once it commits."""
    if metrics.enabled():
        after_commit.defer("metrics.flow", f"{flow}:{object_id}:{status}", (flow, str(status), currency, amount_minor))


def committed(flow: Flow, status: str, currency: str, amount_minor: int) -> None:
    """Something reached `status` in a statement that committed by itself (webapp.dbdirect): counted at once."""
    if metrics.enabled():
        _count_one(flow, str(status), currency, amount_minor)


def event_applied(event_id: str, created_unix: int) -> None:
    """A PSP event created at `created_unix` (PSP time) is applied by the current transaction."""
    if metrics.enabled():
        after_commit.defer("metrics.lag", event_id, created_unix)


def _count(items: dict) -> None:
    for item in items.values():
        _count_one(*item)


def _count_one(flow: Flow, status: str, currency: str, amount: int) -> None:
    count, total = _FAMILIES[flow]
    count.labels(status).inc()
    total.labels(status, currency).inc(amount)


def _lag(items: dict) -> None:
    now = time.time()
    for created in items.values():
        metrics.WEBHOOK_LAG.observe(max(now - created, 0.0))


after_commit.register("metrics.flow", _count)
after_commit.register("metrics.lag", _lag)
