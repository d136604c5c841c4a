"""The payment executor: registers checkouts with the PSP and polls it, in batches.

PSP calls run concurrently on a small thread pool and never inside a database transaction; each result
is then applied in its own short transaction under the checkout's row lock. Every session is created
with an idempotency key derived from our row (`checkout-session-<id>-<attempt>`), so a retried or
duplicated job gets the same session back instead of a second one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.domain.payments import Outcome
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder, PspSession
from webapp.psp import CheckoutSession, LineItem, NewCheckoutSession, Psp, PspError, PspRejected, SessionState
from webapp.services import checkout, crypto, live
from webapp.services.outbox import Claimed
from webapp.services.psp_work import PspWork
from webapp.services.topics import Queue


@dataclass(frozen=True)
class _Plan:
    request: NewCheckoutSession
    previous_session: str | None


def _session_request(event: PaymentEvent, attempt: int) -> NewCheckoutSession:
    base = current_app.config["PUBLIC_BASE_URL"]
    metadata = {"payment_event_id": event.id, "checkout_id": event.checkout_id, "merchant_id": event.merchant_id,
                "attempt": str(attempt)}
    items = tuple(LineItem(f"{o.seller.display_name}: {o.description or o.payment_order_id}", o.amount, o.currency)
                  for o in event.orders)
    return NewCheckoutSession(
        idempotency_key=f"checkout-session-{event.id}-{attempt}",
        line_items=items,
        success_url=f"{base}/checkout/{event.id}/return?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{base}/checkout/{event.id}?canceled=1",
        client_reference_id=event.id,
        customer_email=crypto.decrypt(event.buyer_email_enc),
        transfer_group=event.id,
        metadata=metadata,
        display_name=event.merchant.name,
    )


def _plan(messages: list[Claimed]) -> list[_Plan | None]:
    """None for an attempt that needs no session any more (superseded by a newer one, or finished)."""
    ids = [m.payload["event"] for m in messages]
    events = {e.id: e for e in db.session.scalars(
        select(PaymentEvent).where(PaymentEvent.id.in_(ids))
        .options(selectinload(PaymentEvent.orders).selectinload(PaymentOrder.seller),
                 selectinload(PaymentEvent.merchant)))}
    previous = {(s.payment_event_id, s.attempt): s for s in db.session.scalars(
        select(PspSession).where(PspSession.payment_event_id.in_(ids), PspSession.status == SessionState.OPEN))}
    plans: list[_Plan | None] = []
    for message in messages:
        event, attempt = events.get(message.payload["event"]), message.payload["attempt"]
        if event is None or event.attempt != attempt or event.status != "NOT_STARTED":
            plans.append(None)
            continue
        old = previous.get((event.id, attempt - 1))
        plans.append(_Plan(_session_request(event, attempt), old.id if old else None))
    return plans


@dataclass(frozen=True)
class _Registered:
    session: CheckoutSession
    earlier_attempt: bool  # True: the previous attempt's session, found paid, instead of a new one


def _register(psp: Psp, plan: _Plan) -> _Registered:
    """The PSP side of one registration. A previous open session is expired first; if it turns out to
    have been completed meanwhile, that session is returned instead of creating a new one."""
    if plan.previous_session:
        try:
            old = psp.expire_checkout_session(plan.previous_session)
        except PspRejected:
            old = psp.retrieve_checkout_session(plan.previous_session)
        if old.state is SessionState.COMPLETE:
            return _Registered(old, earlier_attempt=True)
    return _Registered(psp.create_checkout_session(plan.request), earlier_attempt=False)


def _registered(message: Claimed, plan: _Plan, result: _Registered) -> None:
    event = checkout.lock(message.payload["event"])
    if event is None:
        return
    if result.earlier_attempt:
        # The previous attempt's session was completed after all: settle that instead of starting anew.
        checkout.apply_session(result.session, source="previous session found complete")
    else:
        checkout.record_session(event, message.payload["attempt"], result.session.id, result.session.url)
        checkout.apply_outcome(event, message.payload["attempt"], Outcome.SESSION_OPENED,
                               source="PSP session created")


def _retrying(message: Claimed, plan: _Plan, error: PspError) -> None:
    event = checkout.lock(message.payload["event"])
    if event is not None:
        live.publish_after_commit(event.id, checkout.status_message(event))


def _gave_up(message: Claimed, plan: _Plan, error: PspError) -> None:
    event = checkout.lock(message.payload["event"])
    if event is not None:
        checkout.apply_outcome(event, message.payload["attempt"], Outcome.PSP_UNAVAILABLE,
                               source="executor gave up")


REGISTER = PspWork[_Plan, _Registered](
    name=checkout.REGISTER_TOPIC, queue=Queue.HIGH, plan=_plan, call=_register, apply=_registered,
    retrying=_retrying, gave_up=_gave_up,
    describe=lambda m: f"register {m.payload['event']} attempt {m.payload['attempt']}")


def _polled(message: Claimed, payload: dict, found: CheckoutSession) -> None:
    checkout.apply_session(found, source="polled the PSP")


def _polling(topic: str, queue: Queue) -> PspWork[dict, CheckoutSession]:
    """Polling the PSP for a session whose news may have been lost: applied by the path webhooks take."""
    return PspWork[dict, CheckoutSession](
        name=topic, queue=queue, call=lambda psp, payload: psp.retrieve_checkout_session(payload["session"]),
        apply=_polled, describe=lambda m: f"sync {m.payload['session']}")


SYNC = _polling(checkout.SYNC_TOPIC, Queue.HIGH)  # the buyer is back on the return page, waiting
POLL = _polling(checkout.POLL_TOPIC, Queue.LOW)  # the sweeper's catch-up of quiet checkouts

TOPICS = (REGISTER, SYNC, POLL)
