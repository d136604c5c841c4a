"""Waking workers for outbox work once the transaction that recorded it has committed.

A wake-up sent before the commit could reach a worker that does not see the row yet; one sent for a
transaction that then rolls back wakes a worker for nothing. So topics are collected on the session and
sent after the outermost commit (a released savepoint is not a commit). A lost wake-up costs only time:
the relay wakes workers for every due outbox row.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db

_KEY = "wake_topics"


def wake_after_commit(topic: str) -> None:
    db.session.info.setdefault(_KEY, set()).add(topic)


@event.listens_for(Session, "after_commit")
def _wake(session: Session) -> None:
    if session.in_nested_transaction():
        return
    topics = session.info.pop(_KEY, None)
    if topics:
        from workers import enqueue

        for topic in sorted(topics):
            enqueue.wake(topic)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)
