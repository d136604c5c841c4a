"""The inbox of PSP events: stored once by event id when the webhook arrives, applied later in batches.

`receive()` only verifies-and-stores, so the webhook answers fast. `drain()` applies a batch in one
transaction with a savepoint per event (one bad event cannot spoil the others), taking checkout locks
in a fixed order (sorted by checkout id) so concurrent workers never deadlock.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import cast

from flask import current_app
from sqlalchemy import Executable, Table, bindparam, or_, select, update

from webapp import dbdirect
from webapp.dbengine import insert_or_ignore
from webapp.dbtypes import utcnow
from webapp.domain.cards import mask_card_numbers
from webapp.extensions import db
from webapp.models import PspEvent, PspSession
from webapp.ops import log_context, metrics_flow
from webapp.psp import CheckoutSession, Notice, NoticeKind, read_notice
from webapp.services import checkout, funds, outbox, psp_events, wakeups
from webapp.services.outbox import BatchResult
from webapp.services.topics import Drain, Queue

log = logging.getLogger(__name__)
_OUR_ID = re.compile(r"[A-Za-z0-9_]{1,40}")

TOPIC = "inbox"  # what workers are woken for when events wait here


@cache
def _receive_statement(dialect_name: str) -> Executable:
    """Built once per process (webhooks are a hot path): each request binds only its values, and SQLAlchemy
    finds the compiled statement in its cache."""
    return (insert_or_ignore(PspEvent.__table__, dialect_name).on_conflict_do_nothing(index_elements=["id"])
            .returning(PspEvent.__table__.c.id))


# PostgreSQL: the same row, in one round trip committed by itself (webapp.dbdirect).
_RECEIVE_AT_ONCE = ("INSERT INTO psp_events (id, type, object_id, payload, received_at, attempts) "
                    "VALUES (%(id)s, %(type)s, %(object_id)s, %(payload)s, %(received_at)s, 0) "
                    "ON CONFLICT (id) DO NOTHING RETURNING id")


def receive(notice: Notice, payload: str) -> bool:
    """Store a verified PSP event once (by its id), as received, and wake a worker for it. True when it was new."""
    values = {"id": notice.id, "type": notice.type, "object_id": notice.object_id, "payload": payload,
              "received_at": utcnow()}
    if dbdirect.available():
        inserted = dbdirect.fetch_one(_RECEIVE_AT_ONCE, values)
    else:
        inserted = db.session.execute(_receive_statement(db.engine.dialect.name), values).first()
        db.session.commit()
    if inserted is not None:
        wakeups.wake_soon(TOPIC)
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


def _session_news(notice: Notice) -> checkout.SessionNews:
    assert isinstance(notice.subject, CheckoutSession)
    return checkout.SessionNews(notice.subject, notice.type, notice.id)


def _apply(notice: Notice) -> str:
    """One event on its own (money, payout and account events, and session events when their batch could not
    be applied together)."""
    if notice.kind is NoticeKind.CHECKOUT_SESSION:
        news = _session_news(notice)
        return checkout.apply_session(news.snapshot, source=news.source, psp_event_id=news.psp_event_id)
    return psp_events.apply(notice)


def _apply_sessions_together(rows: list[_Claimed], notices: dict[str, Notice]) -> list[dict] | None:
    """The batch's checkout-session events in one go (the fast path); None if any of them fails, so the
    caller applies them one by one and only the bad one is held back."""
    if not rows:
        return []
    try:
        with db.session.begin_nested():
            outcomes = checkout.apply_sessions([_session_news(notices[row.id]) for row in rows])
            db.session.flush()
    except Exception:
        log.warning("a batch of %d session events failed together; applying them one by one", len(rows),
                    exc_info=True)
        return None
    return [{"row_id": row.id, "outcome": outcome[:100]} for row, outcome in zip(rows, outcomes, strict=True)]


def _read(rows: list[_Claimed]) -> tuple[dict[str, Notice], dict[str, Exception]]:
    """Each stored payload as a typed notice; the ones that cannot be read (whatever the reason: a shape stored
    before the webhook checked it, nesting too deep to parse) are failures of their own row only."""
    notices: dict[str, Notice] = {}
    unreadable: dict[str, Exception] = {}
    for row in rows:
        try:
            notices[row.id] = read_notice(row.payload)
        except Exception as exc:
            unreadable[row.id] = exc
    return notices, unreadable


def _checkout_of(row: _Claimed, notices: dict[str, Notice], sessions: dict[str, str]) -> str | None:
    """The checkout the row's event will lock; only a value shaped like our ids is locked (anything else cannot
    be one of our checkouts, and must not reach the batch's lock statement, where it would fail every row)."""
    found = sessions.get(row.object_id or "") or (psp_events.checkout_of(notices[row.id])
                                                   if row.id in notices else None)
    return found if found is not None and _OUR_ID.fullmatch(found) else None


def _error_text(exc: Exception) -> str:
    """What is kept of a failure on the row: no NUL (PostgreSQL refuses it) and no card number."""
    return mask_card_numbers(f"{type(exc).__name__}: {exc}".replace("\x00", ""))[:2000]


def drain(limit: int = 100) -> BatchResult:
    """Apply up to `limit` unprocessed events in one transaction; returns counts and events given up on."""
    result = BatchResult()
    rows = _claim(limit)
    if not rows:
        return result
    notices, unreadable = _read(rows)
    sessions = {s.id: s.payment_event_id for s in db.session.scalars(
        select(PspSession).where(PspSession.id.in_({r.object_id for r in rows if r.object_id})))}
    checkout_of = {r.id: _checkout_of(r, notices, sessions) for r in rows}
    rows.sort(key=lambda r: (checkout_of[r.id] or "", str(r.received_at), r.id))
    # Every checkout the batch touches is locked up front, in id order: concurrent workers never deadlock.
    funds.lock_checkouts({checkout_id for checkout_id in checkout_of.values() if checkout_id})
    now = utcnow()
    together = _apply_sessions_together([r for r in rows if r.id in notices and notices[r.id].kind
                                         is NoticeKind.CHECKOUT_SESSION], notices)
    done: list[dict] = together or []
    for row in rows:
        result.processed += 1
        notice = notices.get(row.id)
        if notice is not None and notice.kind is NoticeKind.CHECKOUT_SESSION and together is not None:
            continue  # applied with the batch above
        if notice is not None and notice.kind is NoticeKind.OTHER:
            done.append({"row_id": row.id, "outcome": "ignored"})  # stored for the record; nothing to apply
            continue
        with log_context.bound(psp_event_id=row.id, payment_id=checkout_of[row.id]):
            _apply_row(row, notice, unreadable, done, result, now)
    for item in done:
        if item["row_id"] in notices:
            metrics_flow.event_applied(item["row_id"], notices[item["row_id"]].created)
    if done:
        table = cast(Table, PspEvent.__table__)
        db.session.execute(update(table).where(table.c.id == bindparam("row_id"))
                           .values(processed_at=now, result=bindparam("outcome"), claimed_until=None), done)
    db.session.commit()
    return result


def _apply_row(row: _Claimed, notice: Notice | None, unreadable: dict[str, Exception], done: list[dict],
               result: BatchResult, now: datetime) -> None:
    """Apply one event in a savepoint; a failure holds it back with backoff, or at last gives up on it."""
    try:
        with db.session.begin_nested():
            if notice is None:
                raise unreadable[row.id]
            outcome = _apply(notice)
            db.session.flush()  # surface this event's database errors here, not at the batch's commit
        done.append({"row_id": row.id, "outcome": outcome[:100]})
    except Exception as exc:  # one bad event must not stop the batch; it is retried, then given up on
        log.exception("applying PSP event %s failed", row.id)
        attempts = row.attempts + 1
        # Held back with exponential backoff, like outbox work: the lease doubles as "not before".
        values = {"attempts": attempts, "last_error": _error_text(exc),
                  "claimed_until": now + timedelta(seconds=outbox.backoff_seconds(attempts))}
        if attempts >= current_app.config["INBOX_MAX_ATTEMPTS"]:
            values.update(processed_at=now, result="dead")
            result.dead.append(f"{row.id} ({row.type}): {values['last_error']}")
        db.session.execute(update(PspEvent).where(PspEvent.id == row.id).values(**values))


def backlog() -> bool:
    """True when events wait to be applied (the relay wakes a worker for them)."""
    now = utcnow()
    return db.session.scalar(select(PspEvent.id).where(
        PspEvent.processed_at.is_(None), or_(PspEvent.claimed_until.is_(None), PspEvent.claimed_until < now))
        .limit(1)) is not None


TOPIC_DRAIN = Drain(TOPIC, Queue.HIGH, drain)
