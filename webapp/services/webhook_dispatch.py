"""The machinery a worker process delivers webhooks with: a thread pool for the HTTP requests, counts of what is in
flight (in all, and per endpoint), and one recorder thread that writes the outcomes in batches.

Requests are never waited for by the job that started them: a request that takes the whole timeout only keeps its
own slot, and its outcome is recorded by the recorder thread when it comes, whatever the worker is doing then. A
delivery stays leased (claimed) until its outcome is recorded; a process that dies with requests in flight leaves
leases that expire, and those deliveries are attempted again (at least once).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask

from webapp.domain.webhooks import AttemptOutcome

log = logging.getLogger(__name__)

RECORD_BATCH = 500

Record = Callable[[list[tuple[Any, AttemptOutcome]]], None]


class Dispatcher:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._busy: Counter[str] = Counter()
        self._in_flight = 0
        self._executor: ThreadPoolExecutor | None = None
        self._outcomes: queue.Queue[tuple[Flask, Record, Any, AttemptOutcome]] = queue.Queue()
        self._recorder: threading.Thread | None = None

    def snapshot(self) -> tuple[Counter[str], int]:
        """Requests in flight per endpoint, and in all."""
        with self._changed:
            return Counter(self._busy), self._in_flight

    def wait_for_change(self, timeout: float) -> None:
        """Sleep until a request finishes (a slot frees) or `timeout` passes."""
        with self._changed:
            self._changed.wait(timeout)

    def submit(self, app: Flask, job: Any, send: Callable[[Any], AttemptOutcome], record: Record,
               threads: int) -> None:
        """Send `job` (which has an `endpoint_id`) on the pool; `record([(job, outcome)])` runs later, in batches,
        in an app context of `app` on the recorder thread."""
        with self._changed:
            if self._executor is None or self._executor._max_workers != threads:
                self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
            if self._recorder is None or not self._recorder.is_alive():
                self._recorder = threading.Thread(target=self._record_forever, name="webhook-recorder", daemon=True)
                self._recorder.start()
            self._busy[job.endpoint_id] += 1
            self._in_flight += 1
            executor = self._executor
        future = executor.submit(send, job)
        future.add_done_callback(lambda done: self._finished(app, record, job, done))

    def _finished(self, app: Flask, record: Record, job: Any, done: Future[AttemptOutcome]) -> None:
        try:
            outcome = done.result()
        except Exception as exc:  # a bug in sending must still end as a logged, retried attempt
            log.exception("sending webhook delivery %s failed", getattr(job, "delivery_id", job))
            outcome = AttemptOutcome(None, 0, error=f"{type(exc).__name__}: {exc}"[:500])
        self._outcomes.put((app, record, job, outcome))
        with self._changed:
            self._busy[job.endpoint_id] -= 1
            if not self._busy[job.endpoint_id]:
                del self._busy[job.endpoint_id]
            self._in_flight -= 1
            self._changed.notify_all()

    def _record_forever(self) -> None:
        while True:
            batch = [self._outcomes.get()]
            while len(batch) < RECORD_BATCH:
                try:
                    batch.append(self._outcomes.get_nowait())
                except queue.Empty:
                    break
            groups: dict[tuple[int, int], list] = {}
            for app, record, job, outcome in batch:
                groups.setdefault((id(app), id(record)), [app, record, []])[2].append((job, outcome))
            for app, record, finished in groups.values():
                with app.app_context():
                    try:
                        record(finished)
                    except Exception:  # leases expire and the deliveries are attempted again
                        log.exception("recording %d webhook attempt(s) failed", len(finished))
                        from webapp.extensions import db

                        db.session.rollback()


DISPATCH = Dispatcher()
