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

from webapp.domain.payments import Outcome, outcome_of_session
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder, PspSession
from webapp.psp import (
    BATCH,
    CheckoutSession,
    LineItem,
    NewCheckoutSession,
    Psp,
    PspError,
    PspRejected,
    call_each,
    get_psp,
)
from webapp.services import checkout, crypto, live, outbox
from webapp.services.outbox import BatchResult, Claimed


@dataclass(frozen=True)
class _Plan:
    message: Claimed
    request: NewCheckoutSession | None  # None: nothing to register any more (superseded or finished)
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
    )


def _plan(messages: list[Claimed]) -> list[_Plan]:
    ids = [m.payload["event"] for m in messages]
    events = {e.id: e for e in db.session.scalars(
        select(PaymentEvent).where(PaymentEvent.id.in_(ids))
        .options(selectinload(PaymentEvent.orders).selectinload(PaymentOrder.seller)))}
    previous = {(s.payment_event_id, s.attempt): s for s in db.session.scalars(
        select(PspSession).where(PspSession.payment_event_id.in_(ids), PspSession.status == "open"))}
    plans = []
    for message in messages:
        event, attempt = events.get(message.payload["event"]), message.payload["attempt"]
        current = event is not None and event.attempt == attempt and event.status == "NOT_STARTED"
        old = previous.get((event.id, attempt - 1)) if event is not None else None
        plans.append(_Plan(message, _session_request(event, attempt) if current and event else None,
                           old.id if old else None))
    db.session.rollback()  # release the read transaction before talking to the PSP
    return plans


@dataclass(frozen=True)
class _Registered:
    session: CheckoutSession
    earlier_attempt: bool  # True: the previous attempt's session, found paid, instead of a new one


def _call(psp: Psp, plan: _Plan) -> _Registered | PspError | None:
    """The PSP side of one registration. A previous open session is expired first; if it turns out to
    have been completed meanwhile, that session is returned instead of creating a new one."""
    if plan.request is None:
        return None
    try:
        if plan.previous_session:
            try:
                old = psp.expire_checkout_session(plan.previous_session)
            except PspRejected:
                old = psp.retrieve_checkout_session(plan.previous_session)
            if old.status == "complete":
                return _Registered(old, earlier_attempt=True)
        return _Registered(psp.create_checkout_session(plan.request), earlier_attempt=False)
    except PspError as exc:
        return exc


def _apply_registration(plan: _Plan, result: _Registered | PspError | None, batch: BatchResult) -> None:
    message = plan.message
    event = checkout.lock(message.payload["event"])
    attempt = message.payload["attempt"]
    if event is None or result is None:
        outbox.complete(message.id)
    elif isinstance(result, PspError):
        dead = outbox.fail(message.id, message.attempts, f"{type(result).__name__}: {result.message}",
                           permanent=not result.retryable)
        if dead:
            batch.dead.append(f"register {event.id} attempt {attempt}: {result.message}")
            checkout.apply_outcome(event, attempt, Outcome.PSP_UNAVAILABLE, source="executor gave up")
        else:
            live.publish_after_commit(event.id, checkout.status_message(event))
    elif result.earlier_attempt:
        # The previous attempt's session was completed after all: settle that instead of starting anew.
        found = result.session
        checkout.apply_session(checkout.SessionSnapshot(found.id, found.status, found.payment_status,
                                                        found.payment_intent_id,
                                                        outcome_of_session(found.status, found.payment_status)),
                               source="previous session found complete")
        outbox.complete(message.id)
    else:
        checkout.record_session(event, attempt, result.session.id, result.session.url)
        checkout.apply_outcome(event, attempt, Outcome.SESSION_OPENED, source="PSP session created")
        outbox.complete(message.id)
    db.session.commit()
    batch.processed += 1


def register_due(limit: int = BATCH) -> BatchResult:
    """Register up to `limit` due checkouts with the PSP."""
    batch = BatchResult()
    messages = outbox.claim(checkout.REGISTER_TOPIC, limit)
    if not messages:
        return batch
    plans = _plan(messages)
    psp = get_psp()
    results = call_each(plans, lambda plan: _call(psp, plan))
    for plan, result in zip(plans, results, strict=True):
        _apply_registration(plan, result, batch)
    return batch


def _retrieve(psp: Psp, session_id: str) -> CheckoutSession | PspError:
    try:
        return psp.retrieve_checkout_session(session_id)
    except PspError as exc:
        return exc


def sync_due(limit: int = BATCH) -> BatchResult:
    """Poll the PSP for sessions whose news may have been lost and apply what it says (same path as webhooks)."""
    batch = BatchResult()
    messages = outbox.claim(checkout.SYNC_TOPIC, limit)
    if not messages:
        return batch
    psp = get_psp()
    results = call_each(messages, lambda message: _retrieve(psp, message.payload["session"]))
    for message, result in zip(messages, results, strict=True):
        if isinstance(result, PspError):
            if outbox.fail(message.id, message.attempts, result.message, permanent=not result.retryable):
                batch.dead.append(f"sync {message.payload['session']}: {result.message}")
        else:
            outcome = outcome_of_session(result.status, result.payment_status,
                                         intent_status=result.payment_intent_status)
            checkout.apply_session(checkout.SessionSnapshot(result.id, result.status, result.payment_status,
                                                            result.payment_intent_id, outcome),
                                   source="polled the PSP")
            outbox.complete(message.id)
        db.session.commit()
        batch.processed += 1
    return batch
