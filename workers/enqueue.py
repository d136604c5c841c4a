"""Waking workers: a job is only a hint that rows wait in a table, so wake-ups are cheap and deduplicated.

`wake(topic)` enqueues one drain job unless one is already waiting (a short-lived Redis flag). A drain
job clears the flag before it reads the table, so work committed while it runs wakes another job. A
lost wake-up costs nothing but time: the relay re-enqueues whatever is due.
"""

from __future__ import annotations

import logging

from flask import current_app
from redis import Redis, RedisError
from rq import Queue

from webapp.extensions import redis_conn
from webapp.services.topics import queue_of

log = logging.getLogger(__name__)

FLAG_TTL_SECONDS = 10


def _flag(topic: str) -> str:
    return f"wake:{topic}"


def queue(name: str, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_conn.client)


def wake(topic: str) -> bool:
    """Enqueue a drain job for `topic` unless one is already waiting. Never raises: Redis only hints."""
    client = redis_conn.client
    try:
        if not client.set(_flag(topic), "1", nx=True, ex=FLAG_TTL_SECONDS):
            return False
        queue(queue_of(topic), client).enqueue(
            "workers.jobs.drain", topic, job_timeout=current_app.config.get("DRAIN_JOB_TIMEOUT", 300),
            result_ttl=0, failure_ttl=7 * 24 * 3600)
        return True
    except RedisError:
        log.warning("could not wake workers for %s; the relay will pick the work up", topic)
        return False


def clear_flag(topic: str) -> None:
    try:
        redis_conn.client.delete(_flag(topic))
    except RedisError:
        log.warning("could not clear the wake flag of %s", topic)


