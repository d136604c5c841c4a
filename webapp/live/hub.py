"""One Redis subscription per web process, fanned out to that process's WebSockets.

A WebSocket never opens its own Redis connection: it registers a queue with the hub, and the hub's
single listener thread (pattern `checkout:*`) puts each message on the queues of that checkout's
sockets. The listener reconnects by itself when Redis goes away.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict

import redis

from webapp.services.live import CHANNEL_PREFIX

log = logging.getLogger(__name__)


class Hub:
    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[queue.Queue]] = defaultdict(set)
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    def subscribe(self, payment_event_id: str) -> queue.Queue:
        self._ensure_listening()
        inbox: queue.Queue = queue.Queue(maxsize=100)
        with self._lock:
            self._subscribers[payment_event_id].add(inbox)
        return inbox

    def unsubscribe(self, payment_event_id: str, inbox: queue.Queue) -> None:
        with self._lock:
            subscribers = self._subscribers.get(payment_event_id)
            if subscribers is not None:
                subscribers.discard(inbox)
                if not subscribers:
                    del self._subscribers[payment_event_id]

    def connections(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())

    def _ensure_listening(self) -> None:
        # Started lazily in the serving process: a thread started before gunicorn forks would not survive.
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._listen_forever, name="live-hub", daemon=True)
                self._thread.start()
        self.ready.wait(timeout=2)

    def _listen_forever(self) -> None:
        while True:
            try:
                client = redis.Redis.from_url(self._redis_url, socket_keepalive=True, health_check_interval=30)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL_PREFIX + "*")
                self.ready.set()
                for message in pubsub.listen():
                    self._dispatch(message)
            except redis.RedisError as exc:
                self.ready.clear()
                log.warning("live hub lost Redis (%s); reconnecting", exc)
                time.sleep(1)

    def _dispatch(self, message: dict) -> None:
        channel = message.get("channel", b"")
        payment_event_id = (channel.decode() if isinstance(channel, bytes) else channel)[len(CHANNEL_PREFIX):]
        try:
            payload = json.loads(message["data"])
        except (TypeError, ValueError):
            return
        with self._lock:
            targets = list(self._subscribers.get(payment_event_id, ()))
        for target in targets:
            try:
                target.put_nowait(payload)
            except queue.Full:
                log.warning("dropping a live update for a slow socket on %s", payment_event_id)


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub_for(redis_url: str) -> Hub:
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = Hub(redis_url)
        return _hub
