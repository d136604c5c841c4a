"""The transactional outbox: work recorded with the state change that needs it, drained by workers.

`add()` joins the caller's transaction. Workers `claim()` due rows under a lease (FOR UPDATE SKIP LOCKED
on PostgreSQL, so concurrent workers never take the same row), then `complete()` or `fail()` each in
the transaction that applies it. A worker killed mid-batch leaves rows whose lease simply expires
(OUTBOX_LEASE_SECONDS); batches are sized so that they finish well within it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.ops import log_context
from webapp.services import bulk, wakeups


@dataclass
class BatchResult:
    """What one drain of a batch did: rows handled, and the ones given up on (for the dead-letter job)."""

    processed: int = 0
    dead: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    id: int
    topic: str
    dedupe_key: str
    payload: dict
    attempts: int
    request_id: str | None = None  # the request that recorded the work: bound to the log lines of handling it


def row(topic: str, dedupe_key: str, payload: dict | None = None, *, delay_seconds: float = 0) -> dict:
    """The outbox row `add()` inserts, for a caller that inserts it in a statement of its own (then it calls
    `wakeups.wake_after_commit(topic)` when the row was inserted)."""
    now = utcnow()
    return {"topic": topic, "dedupe_key": dedupe_key, "payload": json.dumps(payload or {}), "status": "pending",
            "attempts": 0, "available_at": now + timedelta(seconds=delay_seconds), "created_at": now,
            "request_id": log_context.current_request_id()}


def add(topic: str, dedupe_key: str, payload: dict | None = None, *, delay_seconds: float = 0) -> None:
    """Record work in the current transaction (a row with the same dedupe key is recorded only once); a
    worker is woken for it once the transaction commits."""
    inserted = bulk.insert_rows(OutboxMessage, [row(topic, dedupe_key, payload, delay_seconds=delay_seconds)],
                                skip_conflicts_on="dedupe_key", returning=("id",))
    if inserted and not delay_seconds:
        wakeups.wake_after_commit(topic)


def add_many(topic: str, items: list[tuple[str, dict]]) -> None:
    """`add()` for many rows of one topic, (dedupe key, payload) each, in one statement; one wake-up."""
    if not items:
        return
    now = utcnow()
    request_id = log_context.current_request_id()
    bulk.insert_rows(OutboxMessage, [{"topic": topic, "dedupe_key": key, "payload": json.dumps(payload),
                                      "status": "pending", "attempts": 0, "available_at": now, "created_at": now,
                                      "request_id": request_id}
                                     for key, payload in items], skip_conflicts_on="dedupe_key")
    wakeups.wake_after_commit(topic)


def _due(topic: str | None = None):
    now = utcnow()
    condition = (OutboxMessage.status == "pending") & (OutboxMessage.available_at <= now) & or_(
        OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    return condition & (OutboxMessage.topic == topic) if topic else condition


def claim(topic: str, limit: int) -> list[Claimed]:
    """Lease up to `limit` due rows of `topic` to this worker and commit the lease."""
    ids = (select(OutboxMessage.id).where(_due(topic)).order_by(OutboxMessage.id).limit(limit)
           .with_for_update(skip_locked=True).scalar_subquery())
    rows = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids))
        .values(claimed_until=utcnow() + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"]))
        .returning(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.dedupe_key, OutboxMessage.payload,
                   OutboxMessage.attempts, OutboxMessage.request_id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted((Claimed(r.id, r.topic, r.dedupe_key, json.loads(r.payload), r.attempts, r.request_id) for r in rows),
                  key=lambda c: c.id)


def complete(*message_ids: int) -> None:
    """Mark done, in the caller's transaction (the same one that applied the work)."""
    if message_ids:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
                           .values(status="done", processed_at=utcnow(), claimed_until=None)
                           .execution_options(synchronize_session=False))


def backoff_seconds(attempts: int) -> float:
    """Exponential: base, 2x base, 4x base, ... capped at 5 minutes."""
    return min(current_app.config["OUTBOX_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0), 300.0)


def fail(message_id: int, attempts_before: int, error: str, *, permanent: bool = False) -> bool:
    """Record a failed attempt; schedule the next one, or give up. Returns True when the row is now dead."""
    attempts = attempts_before + 1
    dead = permanent or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
        attempts=attempts, last_error=error[:2000], claimed_until=None,
        status="dead" if dead else "pending",
        available_at=utcnow() + timedelta(seconds=0 if dead else backoff_seconds(attempts)),
    ))
    return dead


def due_topics() -> list[str]:
    """Topics with work due now: what the relay wakes workers for."""
    return list(db.session.scalars(select(OutboxMessage.topic).where(_due()).group_by(OutboxMessage.topic)))


def pending_count(topic: str | None = None) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    if topic:
        query = query.where(OutboxMessage.topic == topic)
    return db.session.scalar(query) or 0
