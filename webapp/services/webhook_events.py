"""Events for merchants, recorded in the transaction of the state change that causes them (a transactional outbox):
the event row holds the exact JSON to deliver, and one delivery row per enabled endpoint subscribed to its type is
written with it. A worker is woken after the commit; a rollback takes the event with it.

The event's object is the API's own JSON for it (webapp.api presenters), as it is at that moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from webapp.dbtypes import new_id, utcnow
from webapp.domain.errors import NotFound, ValidationError
from webapp.domain.payments import OrderStatus, Outcome
from webapp.domain.payouts import PayoutStatus
from webapp.domain.refunds import RefundStatus
from webapp.domain.webhooks import DeliveryStatus, EndpointStatus, EventType, subscribed
from webapp.extensions import db
from webapp.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webapp.services import bulk, crypto, wakeups

if TYPE_CHECKING:
    from webapp.models import PaymentEvent, Payout, Refund, SellerAccount

DELIVER_TOPIC = "webhooks.deliver"
_CACHE = "webhook_events.endpoints"


def emit(merchant_id: str, event_type: EventType, object_id: str, obj: dict) -> str:
    """Record an event and its deliveries in the current transaction; returns the event id."""
    now = utcnow()
    event_id = new_id("evt")
    body = json.dumps({"id": event_id, "object": "event", "type": event_type.value, "created": int(now.timestamp()),
                       "data": {"object": obj}}, separators=(",", ":"))
    bulk.insert_rows(WebhookEvent, [{"id": event_id, "merchant_id": merchant_id, "type": event_type.value,
                                     "object_id": object_id, "body_enc": crypto.encrypt(body), "created_at": now}])
    rows = [{"id": new_id("whd"), "event_id": event_id, "endpoint_id": endpoint_id,
             "status": DeliveryStatus.PENDING.value, "attempts": 0, "next_attempt_at": now, "created_at": now,
             "updated_at": now}
            for endpoint_id, events in _endpoints_of(merchant_id) if subscribed(events, event_type.value)]
    if rows:
        bulk.insert_rows(WebhookDelivery, rows)
        wakeups.wake_after_commit(DELIVER_TOPIC)
    return event_id


def _endpoints_of(merchant_id: str) -> list[tuple[str, list[str]]]:
    """The merchant's enabled endpoints and their event types, read once per transaction (a batch of results often
    shares a merchant)."""
    cache = db.session.info.setdefault(_CACHE, {})
    if merchant_id not in cache:
        cache[merchant_id] = [(row.id, row.enabled_events.split(",")) for row in db.session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.enabled_events).where(
                WebhookEndpoint.merchant_id == merchant_id,
                WebhookEndpoint.status == EndpointStatus.ENABLED.value))]
    return cache[merchant_id]


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_endpoints(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CACHE, None)


_PAYMENT_TYPES = {OrderStatus.SUCCESS: EventType.PAYMENT_SUCCEEDED, OrderStatus.PENDING: EventType.PAYMENT_PENDING,
                  OrderStatus.FAILED: EventType.PAYMENT_FAILED}


def payment_changed(event: PaymentEvent, outcome: Outcome) -> None:
    """A checkout moved (its orders are already in their new status): succeeded, pending, failed or expired."""
    kind = _PAYMENT_TYPES.get(OrderStatus(event.status))
    if kind is None:
        return
    if kind is EventType.PAYMENT_FAILED and outcome is Outcome.EXPIRED:
        kind = EventType.PAYMENT_EXPIRED
    from webapp.api import presenters

    # No refund can exist yet: a payment is refunded only once SUCCESS, and SUCCESS is final (no event after it).
    emit(event.merchant_id, kind, event.id, presenters.payment(event, []))


def refund_changed(refund: Refund) -> None:
    """A refund moved: succeeded, or failed (canceled counts as failed; the object's status tells which)."""
    status = RefundStatus(refund.status)
    if status is RefundStatus.SUCCEEDED:
        kind = EventType.REFUND_SUCCEEDED
    elif status in (RefundStatus.FAILED, RefundStatus.CANCELED):
        kind = EventType.REFUND_FAILED
    else:
        return
    from webapp.api import presenters

    emit(refund.merchant_id, kind, refund.id, presenters.refund(refund))


def payout_changed(payout: Payout) -> None:
    """A payout reached the bank, or did not (failed or canceled: the object's status tells which)."""
    status = PayoutStatus(payout.status)
    if status is PayoutStatus.PAID:
        kind = EventType.PAYOUT_PAID
    elif status in (PayoutStatus.FAILED, PayoutStatus.CANCELED):
        kind = EventType.PAYOUT_FAILED
    else:
        return
    from webapp.api import payout_presenters

    emit(payout.merchant_id, kind, payout.id, payout_presenters.payout(payout))


def seller_changed(seller: SellerAccount) -> None:
    """Something a merchant sees on a seller account changed: its state at the PSP, bank account, details."""
    from webapp.api import payout_presenters
    from webapp.services import payout_reads

    emit(seller.merchant_id, EventType.SELLER_ACCOUNT_UPDATED, seller.id,
         payout_presenters.seller_account(seller, payout_reads.seller_balances(seller)))


# Reading events back (GET /v1/events).

def as_json(event: WebhookEvent) -> dict:
    return json.loads(crypto.decrypt(event.body_enc))


def get(merchant_id: str, event_id: str) -> WebhookEvent:
    found = db.session.get(WebhookEvent, event_id)
    if found is None or found.merchant_id != merchant_id:
        raise NotFound(f"No such event: {event_id[:60]!r}.", param="id")
    return found


@dataclass(frozen=True)
class EventPage:
    events: list[WebhookEvent]
    has_more: bool


def page(merchant_id: str, *, limit: int, starting_after: str | None, event_type: str | None) -> EventPage:
    """The merchant's events, newest first, keyset-paginated on (created_at, id)."""
    query = select(WebhookEvent).where(WebhookEvent.merchant_id == merchant_id)
    if event_type is not None:
        if event_type not in {t.value for t in EventType}:
            raise ValidationError(f"Unknown event type: {event_type[:60]!r}.", param="type")
        query = query.where(WebhookEvent.type == event_type)
    if starting_after is not None:
        cursor = db.session.get(WebhookEvent, starting_after)
        if cursor is None or cursor.merchant_id != merchant_id:
            raise ValidationError(f"No such event: {starting_after!r}.", param="starting_after",
                                  code="resource_missing")
        query = query.where(or_(WebhookEvent.created_at < cursor.created_at,
                                and_(WebhookEvent.created_at == cursor.created_at, WebhookEvent.id < cursor.id)))
    rows = list(db.session.scalars(query.order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
                                   .limit(limit + 1)))
    return EventPage(rows[:limit], len(rows) > limit)
