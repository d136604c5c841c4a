"""A merchant's payments as `GET /v1/payments` lists them: a page in two statements, as plain rows.

The page and its orders come from one SELECT: the keyset page (newest first, an index scan of
`ix_payment_events_merchant_created` that starts at the cursor, whose position is looked up inside the same
statement) joined to its orders. The page's refunds come from a second. No ORM objects are built: a page of 100 had
been ~300 of them, loaded and tracked for nothing, since the answer only reads them. The rows carry the models'
attribute names, so the API's presenters render them exactly as they render the models. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import Row, bindparam, select, tuple_

from webapp.domain.errors import ValidationError
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder, Refund

_ORDER_COLUMNS = ("id", "payment_order_id", "seller_account_id", "amount", "currency", "description", "status",
                  "ledger_updated", "wallet_updated")
_REFUND_COLUMNS = ("id", "payment_event_id", "payment_order_id", "amount", "currency", "status", "reason",
                   "seller_share", "fee_share", "failure_reason", "created_at")


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: str
    payment_order_id: str
    seller_account_id: str
    amount: int
    currency: str
    description: str | None
    status: str
    ledger_updated: bool
    wallet_updated: bool


@dataclass(slots=True)
class PaymentRow:
    id: str
    checkout_id: str
    status: str
    amount_total: int
    currency: str
    buyer_email_enc: str
    buyer_name_enc: str | None
    success_url: str | None
    cancel_url: str | None
    failure_code: str | None
    created_at: datetime
    orders: list[OrderRow] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    items: list[PaymentRow]
    has_more: bool
    refunds: dict[str, list[Row]]  # each payment's refunds, oldest first


_EVENT_COLUMNS = tuple(name for name in PaymentRow.__slots__ if name != "orders")


@cache
def _page_statement(after_cursor: bool):
    events, orders = PaymentEvent.__table__, PaymentOrder.__table__
    page = select(*(events.c[name] for name in _EVENT_COLUMNS)).where(events.c.merchant_id == bindparam("merchant"))
    if after_cursor:
        cursor = events.alias("cursor")
        cursor_created = select(cursor.c.created_at).where(cursor.c.merchant_id == bindparam("merchant"),
                                                           cursor.c.id == bindparam("after")).scalar_subquery()
        page = page.where(tuple_(events.c.created_at, events.c.id) < tuple_(cursor_created, bindparam("after")))
    rows = page.order_by(events.c.created_at.desc(), events.c.id.desc()).limit(bindparam("limit")).subquery("page")
    return (select(rows, *(orders.c[name].label(f"order_{name}") for name in _ORDER_COLUMNS))
            .outerjoin(orders, orders.c.payment_event_id == rows.c.id)
            .order_by(rows.c.created_at.desc(), rows.c.id.desc(), orders.c.position))


@cache
def _refunds_statement():
    """The refunds of the payments from the page's newest to its oldest, found by the same keyset range (a fixed
    statement, where a list of a hundred ids would be a new one to convert on every page); a payment committed
    into that range meanwhile brings its refunds too, and is not read."""
    refunds, events = Refund.__table__, PaymentEvent.__table__
    position = tuple_(events.c.created_at, events.c.id)
    return (select(*(refunds.c[name] for name in _REFUND_COLUMNS))
            .join(events, events.c.id == refunds.c.payment_event_id)
            .where(events.c.merchant_id == bindparam("merchant"),
                   position <= tuple_(bindparam("newest_created", type_=events.c.created_at.type), bindparam("newest")),
                   position >= tuple_(bindparam("oldest_created", type_=events.c.created_at.type), bindparam("oldest")))
            .order_by(refunds.c.created_at, refunds.c.id))


def page(merchant_id: str, limit: int, starting_after: str | None) -> Page:
    """Newest first, keyset-paginated by (created_at, id) so pages stay stable while payments arrive."""
    rows = db.session.execute(_page_statement(starting_after is not None),
                              {"merchant": merchant_id, "after": starting_after, "limit": limit + 1}).all()
    found: dict[str, PaymentRow] = {}
    for row in rows:
        payment = found.get(row.id)
        if payment is None:
            payment = found[row.id] = PaymentRow(*row[:len(_EVENT_COLUMNS)])
        if row.order_id is not None:
            payment.orders.append(OrderRow(*row[len(_EVENT_COLUMNS):]))
    if not found and starting_after is not None and _missing(merchant_id, starting_after):
        raise ValidationError(f"No such payment: {starting_after!r}.", param="starting_after")
    items = list(found.values())[:limit]
    refunds: dict[str, list[Row]] = {}
    if items:
        newest, oldest = items[0], items[-1]
        for refund in db.session.execute(_refunds_statement(), {
                "merchant": merchant_id, "newest_created": newest.created_at, "newest": newest.id,
                "oldest_created": oldest.created_at, "oldest": oldest.id}).all():
            refunds.setdefault(refund.payment_event_id, []).append(refund)
    return Page(items, len(found) > limit, refunds)


def _missing(merchant_id: str, payment_id: str) -> bool:
    return db.session.scalar(select(PaymentEvent.id).where(PaymentEvent.merchant_id == merchant_id,
                                                          PaymentEvent.id == payment_id)) is None
