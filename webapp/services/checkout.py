"""The buyer's side of a checkout: pressing Pay, registering the PSP session, and applying outcomes.

Every outcome, from a webhook, from the executor or from polling the PSP, goes through
`apply_outcome()`, which moves the orders by the transition table in `webapp.domain.payments` under a
row lock on the checkout, so concurrent and repeated news about the same checkout apply once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.orm import selectinload

from webapp.domain.payments import (
    BuyerState,
    OrderStatus,
    Outcome,
    buyer_state,
    next_status,
)
from webapp.extensions import db
from webapp.models import OutboxMessage, PaymentActivity, PaymentEvent, PspSession
from webapp.ops import metrics_flow
from webapp.ops.metrics_flow import Flow
from webapp.psp import CheckoutSession, SessionState
from webapp.services import funds, live, outbox, webhook_events

if TYPE_CHECKING:
    from webapp.services.checkout_reads import CheckoutView

REGISTER_TOPIC = "checkout.register"
SYNC_TOPIC = "checkout.sync"  # a buyer is back from the PSP's page: poll now
POLL_TOPIC = "checkout.poll"  # the sweeper's catch-up polls of quiet checkouts, behind everything a buyer waits on

_FAILURE_CODES = {Outcome.EXPIRED: "expired", Outcome.PAYMENT_FAILED: "payment_failed",
                  Outcome.PSP_UNAVAILABLE: "psp_unavailable"}


def lock(payment_event_id: str) -> PaymentEvent | None:
    """The checkout with its row locked for this transaction (PostgreSQL); SQLite has one writer anyway."""
    return db.session.scalar(select(PaymentEvent).where(PaymentEvent.id == payment_event_id)
                             .with_for_update().execution_options(populate_existing=True))


def registering_retry(event: PaymentEvent | CheckoutView | Row) -> bool:
    """True while registering this attempt with the PSP has failed at least once and is being retried."""
    return bool(db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key == f"register:{event.id}:{event.attempt}",
        OutboxMessage.status == "pending", OutboxMessage.attempts > 0)))


def state_of(event: PaymentEvent | CheckoutView | Row, retrying: bool | None = None) -> BuyerState:
    """The buyer's state; `retrying` when the caller knows it already (checkout_reads reads it with the page)."""
    status = OrderStatus(event.status)
    connecting = status is OrderStatus.NOT_STARTED and event.attempt > 0
    if connecting and retrying is None:
        retrying = registering_retry(event)
    return buyer_state(status, attempt=event.attempt, has_session_url=bool(event.psp_session_url),
                       failure_code=event.failure_code, retrying=connecting and bool(retrying))


def status_message(event: PaymentEvent | CheckoutView | Row, state: BuyerState | None = None) -> dict:
    """The JSON the buyer's page receives over the WebSocket and from the status endpoint."""
    state = state or state_of(event)
    message = {"checkout": event.id, "status": event.status, "state": state.state, "label": state.label,
               "message": state.message, "can_retry": state.can_retry}
    if state.state == "redirect":
        message["redirect_url"] = event.psp_session_url
    if state.state in ("paid", "pending") and event.success_url:
        message["continue_url"] = event.success_url
    return message


def _note(event: PaymentEvent, kind: str, detail: str, psp_event_id: str | None = None) -> None:
    db.session.add(PaymentActivity(payment_event_id=event.id, kind=kind, detail=detail[:500],
                                   psp_event_id=psp_event_id))


def apply_outcome(event: PaymentEvent, attempt: int, outcome: Outcome, *, source: str,
                  psp_event_id: str | None = None, captures: list[tuple[PaymentEvent, int]] | None = None) -> bool:
    """Move the checkout's orders for `outcome` of `attempt` (caller holds the row lock). True if changed.

    Reaching SUCCESS posts the capture to the ledger in the same transaction; a batch passes `captures`
    to collect them and post them all at once."""
    transition = next_status(OrderStatus(event.status), outcome, outcome_attempt=attempt,
                             current_attempt=event.attempt)
    if not transition.changed:
        return False
    for order in event.orders:
        order.status = transition.after
        metrics_flow.reached(Flow.PAYMENT_ORDER, order.id, transition.after, order.currency, order.amount)
    event.status = transition.after
    metrics_flow.reached(Flow.PAYMENT, event.id, transition.after, event.currency, event.amount_total)
    if transition.after is OrderStatus.FAILED:
        event.failure_code = _FAILURE_CODES.get(outcome)
    if transition.after is OrderStatus.SUCCESS:
        if captures is None:
            funds.record_capture(event, attempt)  # ledger and wallets, in this same transaction
        else:
            captures.append((event, attempt))
    if captures is None or transition.after is not OrderStatus.SUCCESS:
        webhook_events.payment_changed(event, outcome)  # a batch's captures announce theirs once posted
    _note(event, "status", f"{transition.before} → {transition.after} ({source})", psp_event_id)
    live.publish_after_commit(event.id, status_message(event))
    return True


def record_session(event: PaymentEvent, attempt: int, session_id: str, url: str | None) -> PspSession:
    """Remember a PSP session once (a retried job gets the same session back through its idempotency key)."""
    existing = db.session.get(PspSession, session_id)
    if existing is not None:
        return existing
    record = PspSession(id=session_id, payment_event_id=event.id, attempt=attempt, url=url)
    db.session.add(record)
    if attempt == event.attempt:
        event.psp_session_id, event.psp_session_url = session_id, url
    return record


_SESSION_RANK = {SessionState.OPEN: 0, SessionState.EXPIRED: 1, SessionState.COMPLETE: 2}


def _remember(record: PspSession, snapshot: CheckoutSession) -> None:
    known = _enum_or_none(record.status)
    if snapshot.state and _SESSION_RANK[snapshot.state] > _SESSION_RANK.get(known, 0):  # type: ignore[arg-type]
        record.status = snapshot.state.value  # sessions only move forward too: open → complete | expired
    if snapshot.paid:
        record.payment_status = "paid"
    record.payment_intent_id = record.payment_intent_id or snapshot.payment_intent_id


def _enum_or_none(value: str | None) -> SessionState | None:
    try:
        return SessionState(value) if value else None
    except ValueError:
        return None


def apply_session(snapshot: CheckoutSession, *, source: str, psp_event_id: str | None = None) -> str:
    """Apply news about a session (from a webhook or from asking the PSP) to its checkout (caller commits).
    Returns what happened, for the inbox."""
    record = db.session.get(PspSession, snapshot.id)
    if record is None:
        return "unknown_session"
    event = lock(record.payment_event_id)
    assert event is not None
    _remember(record, snapshot)
    if snapshot.outcome is None:
        return "no_change"
    changed = apply_outcome(event, record.attempt, snapshot.outcome, source=source, psp_event_id=psp_event_id)
    return f"{snapshot.outcome.value}:{'applied' if changed else 'no_change'}"


@dataclass(frozen=True)
class SessionNews:
    snapshot: CheckoutSession
    source: str
    psp_event_id: str | None


def apply_sessions(news: list[SessionNews]) -> list[str]:
    """`apply_session` for a batch, in order (caller commits): the sessions and their checkouts are loaded in
    two queries, checkouts locked in id order, and every capture posted to the ledger in one go."""
    records = {r.id: r for r in db.session.scalars(
        select(PspSession).where(PspSession.id.in_({item.snapshot.id for item in news})))}
    ids = sorted({r.payment_event_id for r in records.values()})
    events = {e.id: e for e in db.session.scalars(
        select(PaymentEvent).where(PaymentEvent.id.in_(ids)).order_by(PaymentEvent.id).with_for_update()
        .options(selectinload(PaymentEvent.orders)).execution_options(populate_existing=True))}
    captures: list[tuple[PaymentEvent, int]] = []
    results = []
    for item in news:
        record = records.get(item.snapshot.id)
        if record is None:
            results.append("unknown_session")
            continue
        _remember(record, item.snapshot)
        if item.snapshot.outcome is None:
            results.append("no_change")
            continue
        changed = apply_outcome(events[record.payment_event_id], record.attempt, item.snapshot.outcome,
                                source=item.source, psp_event_id=item.psp_event_id, captures=captures)
        results.append(f"{item.snapshot.outcome.value}:{'applied' if changed else 'no_change'}")
    if captures:
        funds.record_captures(captures)
        for event, _attempt in captures:
            webhook_events.payment_changed(event, Outcome.PAID)
    return results


def poll_now(payment_event_id: str, session_id: str) -> None:
    """The buyer came back from the PSP's page: ask a worker to poll the PSP for the session if it is one of this
    checkout's (commits; at most one poll per session every 15 s); whichever of the poll and the webhook comes
    first settles the checkout."""
    record = db.session.get(PspSession, session_id)
    if record is not None and record.payment_event_id == payment_event_id:
        outbox.add(SYNC_TOPIC, f"sync:{session_id}:{int(time.time() // 15)}", {"session": session_id})
        db.session.commit()


def request_polls(due: list[tuple[str, str, datetime]]) -> None:
    """The sweeper's polls: (checkout id, PSP session id, when it may be polled next) each. Queues a poll of each
    session and records the next time, which is not news (`updated_at` stays). Caller commits."""
    if not due:
        return
    outbox.add_many(POLL_TOPIC, [(f"poll:{session}:{int(when.timestamp())}", {"session": session})
                                 for _, session, when in due])
    table = cast(Table, PaymentEvent.__table__)
    db.session.execute(update(table).where(table.c.id == bindparam("checkout"))
                       .values(sync_due_at=bindparam("due"), updated_at=table.c.updated_at),
                       [{"checkout": checkout, "due": when} for checkout, _, when in due])
