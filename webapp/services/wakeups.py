"""Waking workers for work once the transaction that recorded it has committed.

A wake-up sent before the commit could reach a worker that does not see the row yet; one sent for a
transaction that then rolls back wakes a worker for nothing (see after_commit). A lost wake-up costs only
time: the relay wakes workers for every due outbox row.

`wake_soon()` is for a web process's hot paths (the PSP's webhooks and buyers pressing Pay, hundreds a second): the
request hands the topic to a thread of the process's own and answers without waiting for Redis, and the thread sends
one wake-up for all the commits made while it was busy with the previous one. None is lost: a topic asked for after
the thread took its batch stays pending for the next round, which starts as soon as the current one ends; so every
commit is followed by a wake-up sent after it. (Worker jobs keep `wake_after_commit`, sent before the job returns:
RQ ends a job's process without waiting for other threads.)
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from flask import Flask, current_app

from webapp.services import after_commit

log = logging.getLogger(__name__)

# After sending a round of wake-ups the thread waits this long before the next, so that under load a round serves
# many commits (a worker takes longer than this to start a job anyway). At 5 ms a web process taking ~230 webhooks
# a second still sent a round for nearly every one (~3 % of its CPU in redis-py); at 25 ms one serves about six.
ROUND_GAP_SECONDS = 0.025


def wake_after_commit(topic: str) -> None:
    after_commit.defer("wake", topic)


def _wake(topics: dict) -> None:
    from workers import enqueue  # workers import the services; the services only reach back at run time

    for topic in sorted(topics):
        enqueue.wake(topic)


after_commit.register("wake", _wake)


class _Waker:
    def __init__(self) -> None:
        self._pending: dict[str, Flask] = {}
        self._ready = threading.Condition()
        self._pid: int | None = None

    def ask(self, app: Flask, topic: str) -> None:
        with self._ready:
            self._pending[topic] = app
            if self._pid != os.getpid():  # first use in this process (gunicorn forks workers after import)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="wakeups", daemon=True).start()
            self._ready.notify()

    def _take(self) -> dict[str, Flask]:
        with self._ready:
            while not self._pending:
                self._ready.wait()
            taken, self._pending = self._pending, {}
            return taken

    def _run(self) -> None:
        while True:
            try:
                _send(self._take())
            except Exception:  # enqueue.wake never raises for Redis; anything else must not end the thread
                log.exception("sending wake-ups failed; the relay will pick the work up")
            time.sleep(ROUND_GAP_SECONDS)

    def flush(self) -> None:
        """Send what is pending now (at exit: a pending wake-up is not left to the relay)."""
        with self._ready:
            taken, self._pending = self._pending, {}
        _send(taken)


def _send(topics: dict[str, Flask]) -> None:
    from workers import enqueue

    for topic, app in sorted(topics.items()):
        with app.app_context():
            enqueue.wake(topic)


_waker = _Waker()
atexit.register(_waker.flush)


def wake_soon(topic: str) -> None:
    """Wake workers for `topic`, whose work this request has committed, from this process's wake-up thread."""
    _waker.ask(current_app._get_current_object(), topic)  # type: ignore[attr-defined]
