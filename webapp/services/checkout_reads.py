"""What the buyer's checkout pages show, read in one statement and without ORM objects.

The checkout page (loaded once per Pay press, so on the pay-in's hot path), its status endpoint, the page the buyer
comes back to from the PSP and the live socket's first message need the checkout, its merchant's name, its orders
with their sellers' names, and, while an attempt is being connected, whether registering it with the PSP is being
retried. One SELECT joins them (one row per order); read-only, and on PostgreSQL sent by itself in one round trip
(no BEGIN and ROLLBACK around it: a single statement reads one snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import String, and_, bindparam, case, cast, exists, literal, select

from webapp import dbdirect
from webapp.domain.payments import OrderStatus
from webapp.extensions import db
from webapp.models import Merchant, OutboxMessage, PaymentEvent, PaymentOrder, PspSession, SellerAccount


@dataclass(frozen=True)
class Line:
    seller_account_id: str
    seller_name: str
    payment_order_id: str
    description: str | None
    amount: int
    currency: str


@dataclass(frozen=True)
class CheckoutView:
    """A checkout as its buyer sees it; the fields `checkout.state_of` and `status_message` read, named as on
    PaymentEvent."""

    id: str
    checkout_id: str
    merchant_name: str
    currency: str
    amount_total: int
    status: str
    attempt: int
    psp_session_id: str | None
    psp_session_url: str | None
    failure_code: str | None
    success_url: str | None
    cancel_url: str | None
    buyer_email_enc: str
    registering_retry: bool  # only ever true while the attempt is connecting (see checkout.registering_retry)
    orders: tuple[Line, ...]


@cache
def _statement():
    e, o = PaymentEvent, PaymentOrder
    # The same question as checkout.registering_retry, asked only when the attempt is connecting.
    retrying = case((and_(e.status == OrderStatus.NOT_STARTED.value, e.attempt > 0), exists().where(
        OutboxMessage.dedupe_key == literal("register:") + e.id + ":" + cast(e.attempt, String),
        OutboxMessage.status == "pending", OutboxMessage.attempts > 0)), else_=False)
    return (select(e.id, e.checkout_id, Merchant.name.label("merchant_name"), e.currency, e.amount_total, e.status,
                   e.attempt, e.psp_session_id, e.psp_session_url, e.failure_code, e.success_url, e.cancel_url,
                   e.buyer_email_enc, retrying.label("registering_retry"), o.seller_account_id,
                   SellerAccount.display_name, o.payment_order_id, o.description, o.amount,
                   o.currency.label("order_currency"))
            .join(Merchant, Merchant.id == e.merchant_id)
            .join(o, o.payment_event_id == e.id)
            .join(SellerAccount, SellerAccount.id == o.seller_account_id)
            .where(e.id == bindparam("id"))
            .order_by(o.position))


@cache
def _direct() -> tuple[str, dict]:
    """The statement as PostgreSQL text, with its constant parameters (compiled once per process)."""
    compiled = _statement().compile(dialect=db.engine.dialect)
    return str(compiled), dict(compiled.params)


def view(payment_event_id: str) -> CheckoutView | None:
    rows: Sequence[Any]  # named tuples or SQLAlchemy rows: the same names either way
    if dbdirect.available():  # one round trip, outside any transaction (webapp.dbdirect)
        text, constants = _direct()
        rows = dbdirect.fetch_all(text, {**constants, "id": payment_event_id})
    else:
        rows = db.session.connection().execute(_statement(), {"id": payment_event_id}).all()
    if not rows:
        return None
    first = rows[0]
    return CheckoutView(
        id=first.id, checkout_id=first.checkout_id, merchant_name=first.merchant_name, currency=first.currency,
        amount_total=first.amount_total, status=first.status, attempt=first.attempt,
        psp_session_id=first.psp_session_id, psp_session_url=first.psp_session_url, failure_code=first.failure_code,
        success_url=first.success_url, cancel_url=first.cancel_url, buyer_email_enc=first.buyer_email_enc,
        registering_retry=bool(first.registering_retry),
        orders=tuple(Line(r.seller_account_id, r.display_name, r.payment_order_id, r.description, r.amount,
                          r.order_currency) for r in rows))


def sessions(payment_event_id: str) -> list[PspSession]:
    """The checkout's PSP sessions, oldest attempt first (the paid and pending pages ask the PSP about them)."""
    return list(db.session.scalars(select(PspSession).where(PspSession.payment_event_id == payment_event_id)
                                   .order_by(PspSession.attempt)))
