"""The refund invariants of `flask ledger verify` (called by webapp.services.verification.verify()): each refund's
journal entries match its status, and no order is refunded beyond its capture."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from webapp.domain.money import describe
from webapp.domain.refunds import ACTIVE, RefundStatus
from webapp.extensions import db
from webapp.models import LedgerEntry, OrderFunds, Refund

CHECKS = {"refunds_match_entries": "Each refund's entries match its status, and no order is refunded beyond its "
                                   "capture"}
_ACTIVE = [s.value for s in ACTIVE]
# The entries each refund status implies, as sorted tuples of entry kinds.
_REFUND_ENTRIES: dict[RefundStatus, list[tuple[str, ...]]] = {
    RefundStatus.REQUESTED: [("refund_reserved",)],
    RefundStatus.PENDING: [("refund_reserved",)],
    RefundStatus.SUCCEEDED: [("refund_paid", "refund_reserved")],
    RefundStatus.FAILED: [("refund_released", "refund_reserved"),
                          ("refund_paid", "refund_reserved", "refund_returned")],
    RefundStatus.CANCELED: [("refund_released", "refund_reserved"),
                            ("refund_paid", "refund_reserved", "refund_returned")],
}



def check(report: Any, shown: int) -> None:
    """Add the refund checks' violations to `report` (its `add(check, messages)`)."""
    kinds: dict[str, list[str]] = defaultdict(list)
    for refund_id, kind in db.session.execute(select(LedgerEntry.refund_id, LedgerEntry.kind)
                                              .where(LedgerEntry.refund_id.is_not(None))):
        kinds[str(refund_id)].append(kind)
    messages = []
    for refund_id, status in db.session.execute(select(Refund.id, Refund.status)):
        found = tuple(sorted(kinds.pop(refund_id, [])))
        if found not in _REFUND_ENTRIES[RefundStatus(status)]:
            messages.append(f"refund {refund_id} is {status} but has entries {', '.join(found) or 'none'}")
    messages += [f"entries {', '.join(sorted(k))} name refund {refund_id}, which does not exist"
                 for refund_id, k in kinds.items()]
    refunded = (select(Refund.payment_order_id, func.sum(Refund.amount).label("total"))
                .where(Refund.status.in_(_ACTIVE)).group_by(Refund.payment_order_id).subquery())
    messages += [f"order {order} is refunded {describe(total, currency)} of {describe(amount, currency)} captured"
                 for order, total, amount, currency in db.session.execute(
                     select(refunded.c.payment_order_id, refunded.c.total, OrderFunds.amount, OrderFunds.currency)
                     .join(OrderFunds, OrderFunds.payment_order_id == refunded.c.payment_order_id)
                     .where(refunded.c.total > OrderFunds.amount).limit(shown + 1))]
    report.add("refunds_match_entries", messages)
