"""The inbox of PSP events: stored once by event id when the webhook arrives, applied later in batches.

`receive()` only verifies-and-stores, so the webhook answers fast. `drain()` applies a batch in one
transaction with a savepoint per event (one bad event cannot spoil the others), taking checkout locks
in a fixed order (sorted by checkout id) so concurrent workers never deadlock.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from flask import current_app
from sqlalchemy import Table, bindparam, or_, select, update

from webapp.dbengine import insert_or_ignore
from webapp.dbtypes import utcnow
from webapp.domain.payments import outcome_of_session
from webapp.extensions import db
from webapp.models import PspEvent, PspSession
from webapp.services import checkout, funds, money_events, outbox, wakeups
from webapp.services.outbox import BatchResult

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TOPIC = "inbox"  # what workers are woken for when events wait here
SESSION_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded",
                            "checkout.session.async_payment_failed", "checkout.session.expired"})


def subscribed_events() -> list[str]:
    """The PSP event types the gateway acts on: what its webhook endpoint should be enabled for.

    Others would only be stored and ignored; leaving them out keeps webhook traffic to what matters.
    """
    return sorted(SESSION_EVENTS | money_events.HANDLED)



def receive(event: dict) -> bool:
    """Store a verified PSP event once (by its id) and wake a worker for it. True when it was new."""
    data_object = (event.get("data") or {}).get("object") or {}
    values = {"id": event["id"], "type": str(event.get("type", ""))[:100],
              "object_id": data_object.get("id") if isinstance(data_object, dict) else None,
              "payload": json.dumps(event), "received_at": utcnow()}
    statement = insert_or_ignore(PspEvent.__table__, db.engine.dialect.name)
    inserted = db.session.execute(statement.values(**values).on_conflict_do_nothing(index_elements=["id"])
                                  .returning(PspEvent.id)).first()
    if inserted is not None:
        wakeups.wake_after_commit(TOPIC)
    db.session.commit()
    return inserted is not None


@dataclass(frozen=True)
class _Claimed:
    id: str
    type: str
    object_id: str | None
    payload: str
    received_at: object
    attempts: int


def _claim(limit: int) -> list[_Claimed]:
    now = utcnow()
    ids = (select(PspEvent.id)
           .where(PspEvent.processed_at.is_(None), or_(PspEvent.claimed_until.is_(None), PspEvent.claimed_until < now))
           .order_by(PspEvent.received_at).limit(limit).with_for_update(skip_locked=True).scalar_subquery())
    rows = db.session.execute(
        update(PspEvent).where(PspEvent.id.in_(ids))
        .values(claimed_until=now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"]))
        .returning(PspEvent.id, PspEvent.type, PspEvent.object_id, PspEvent.payload, PspEvent.received_at,
                   PspEvent.attempts)
        .execution_options(synchronize_session=False)).all()
    db.session.commit()
    return [_Claimed(*row) for row in rows]


def _session_news(row: _Claimed) -> checkout.SessionNews:
    session = json.loads(row.payload)["data"]["object"]
    snapshot = checkout.SessionSnapshot(
        session["id"], session.get("status"), session.get("payment_status"),
        session["payment_intent"] if isinstance(session.get("payment_intent"), str) else None,
        outcome_of_session(session.get("status"), session.get("payment_status"), event_type=row.type))
    return checkout.SessionNews(snapshot, row.type, row.id)


def _apply(row: _Claimed) -> str:
    """One event on its own (money events, and session events when their batch could not be applied)."""
    if row.type in money_events.HANDLED:  # refunds and funds becoming available
        return money_events.apply(row.type, json.loads(row.payload), row.id)
    news = _session_news(row)
    return checkout.apply_session(news.snapshot, source=news.source, psp_event_id=news.psp_event_id)


def _apply_sessions_together(rows: list[_Claimed]) -> list[dict] | None:
    """The batch's checkout-session events in one go (the fast path); None if any of them fails, so the
    caller applies them one by one and only the bad one is held back."""
    if not rows:
        return []
    try:
        with db.session.begin_nested():
            outcomes = checkout.apply_sessions([_session_news(row) for row in rows])
            db.session.flush()
    except Exception:
        log.warning("a batch of %d session events failed together; applying them one by one", len(rows),
                    exc_info=True)
        return None
    return [{"row_id": row.id, "outcome": outcome[:100]} for row, outcome in zip(rows, outcomes, strict=True)]


def drain(limit: int = 100) -> BatchResult:
    """Apply up to `limit` unprocessed events in one transaction; returns counts and events given up on."""
    result = BatchResult()
    rows = _claim(limit)
    if not rows:
        return result
    sessions = {s.id: s.payment_event_id for s in db.session.scalars(
        select(PspSession).where(PspSession.id.in_({r.object_id for r in rows if r.object_id})))}
    checkout_of = {r.id: sessions.get(r.object_id or "") or money_events.checkout_of(r.type, r.payload) for r in rows}
    rows.sort(key=lambda r: (checkout_of[r.id] or "", str(r.received_at), r.id))
    # Every checkout the batch touches is locked up front, in id order: concurrent workers never deadlock.
    funds.lock_checkouts({checkout_id for checkout_id in checkout_of.values() if checkout_id})
    now = utcnow()
    together = _apply_sessions_together([r for r in rows if r.type in SESSION_EVENTS])
    done: list[dict] = together or []
    for row in rows:
        result.processed += 1
        if row.type in SESSION_EVENTS and together is not None:
            continue  # applied with the batch above
        if row.type not in SESSION_EVENTS and row.type not in money_events.HANDLED:
            done.append({"row_id": row.id, "outcome": "ignored"})  # stored for the record; nothing to apply
            continue
        try:
            with db.session.begin_nested():
                outcome = _apply(row)
                db.session.flush()  # surface this event's database errors here, not at the batch's commit
            done.append({"row_id": row.id, "outcome": outcome[:100]})
        except Exception as exc:  # one bad event must not stop the batch; it is retried, then given up on
            log.exception("applying PSP event %s failed", row.id)
            attempts = row.attempts + 1
            # Held back with exponential backoff, like outbox work: the lease doubles as "not before".
            values = {"attempts": attempts, "last_error": f"{type(exc).__name__}: {exc}"[:2000],
                      "claimed_until": now + timedelta(seconds=outbox.backoff_seconds(attempts))}
            if attempts >= MAX_ATTEMPTS:
                values.update(processed_at=now, result="dead")
                result.dead.append(f"{row.id} ({row.type}): {exc}")
            db.session.execute(update(PspEvent).where(PspEvent.id == row.id).values(**values))
    if done:
        table = cast(Table, PspEvent.__table__)
        db.session.execute(update(table).where(table.c.id == bindparam("row_id"))
                           .values(processed_at=now, result=bindparam("outcome"), claimed_until=None), done)
    db.session.commit()
    return result


def backlog() -> bool:
    """True when events wait to be applied (the relay wakes a worker for them)."""
    now = utcnow()
    return db.session.scalar(select(PspEvent.id).where(
        PspEvent.processed_at.is_(None), or_(PspEvent.claimed_until.is_(None), PspEvent.claimed_until < now))
        .limit(1)) is not None
