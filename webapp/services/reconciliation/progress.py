"""A run's progress for the admin page: published on Redis pub/sub (`reconcile:<run id>`) while the run works, at
most a few times a second, and read by the page's WebSocket. Redis being down costs only the live bar."""

from __future__ import annotations

import json
import logging
import time

from redis import RedisError

from webapp.extensions import redis_conn

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "reconcile:"
_EVERY_SECONDS = 0.2


def channel(run_id: str) -> str:
    return CHANNEL_PREFIX + run_id


class Publisher:
    """A `runs.Progress` callback that publishes (stage, done, total) for one run."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._last = 0.0
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._last < _EVERY_SECONDS:
            return
        self._stage, self._last = stage, now
        self.send({"run": self.run_id, "stage": stage, "done": done, "total": total, "status": "running"})

    def send(self, message: dict) -> None:
        try:
            redis_conn.client.publish(channel(self.run_id), json.dumps(message))
        except RedisError:
            log.warning("progress of run %s not published (Redis unavailable)", self.run_id)
