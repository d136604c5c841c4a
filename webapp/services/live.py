"""Live status for buyers: a message per checkout on Redis pub/sub, published only after the commit.

Messages go out after the commit (see after_commit). Redis being down costs only the live update: pages
fall back to polling the status endpoint.
"""

from __future__ import annotations

import json
import logging

from redis import RedisError

from webapp.extensions import redis_conn
from webapp.services import after_commit

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "checkout:"


def channel(payment_event_id: str) -> str:
    return CHANNEL_PREFIX + payment_event_id


def publish_after_commit(payment_event_id: str, message: dict) -> None:
    """Send `message` to the buyers watching this checkout once the current transaction commits; the last
    message per checkout wins."""
    after_commit.defer("live", payment_event_id, message)


def _publish(messages: dict) -> None:
    try:
        with redis_conn.client.pipeline(transaction=False) as pipe:
            for payment_event_id, message in messages.items():
                pipe.publish(channel(payment_event_id), json.dumps(message))
            pipe.execute()
    except RedisError:
        log.warning("%d live updates not published (Redis unavailable)", len(messages))


after_commit.register("live", _publish)
