"""Live status for buyers: a message per checkout on Redis pub/sub, published only after the commit.

Publishing inside the transaction could announce a state that then rolls back; these hooks hold the
messages in the session and send them once the commit succeeded (dropped on rollback). Redis being
down costs only the live update: pages fall back to polling the status endpoint.
"""

from __future__ import annotations

import json
import logging

from redis import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db, redis_conn

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "checkout:"
_KEY = "live_messages"


def channel(payment_event_id: str) -> str:
    return CHANNEL_PREFIX + payment_event_id


def publish_after_commit(payment_event_id: str, message: dict) -> None:
    """Queue `message` for the buyers watching this checkout until the current transaction commits; the
    last message per checkout wins."""
    db.session.info.setdefault(_KEY, {})[payment_event_id] = message


def publish_now(payment_event_id: str, message: dict) -> None:
    try:
        redis_conn.client.publish(channel(payment_event_id), json.dumps(message))
    except RedisError:
        log.warning("live update for %s not published (Redis unavailable)", payment_event_id)


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the real commit is still to come
    messages = session.info.pop(_KEY, None)
    if not messages:
        return
    try:
        with redis_conn.client.pipeline(transaction=False) as pipe:
            for payment_event_id, message in messages.items():
                pipe.publish(channel(payment_event_id), json.dumps(message))
            pipe.execute()
    except RedisError:
        log.warning("%d live updates not published (Redis unavailable)", len(messages))


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    if session.in_nested_transaction():
        return  # only a savepoint rolled back; what else the transaction queued still stands
    session.info.pop(_KEY, None)
