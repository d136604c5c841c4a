"""Signed webhook deliveries from background threads, with retries and faults.

A delivery row exists per (event, endpoint). After the transaction that created the event commits,
its deliveries are put on a heap ordered by due time. A scheduler thread moves due deliveries to a
pool of sender threads, each holding keep-alive connections; a recorder thread writes results in
batches and puts failures back on the heap with exponential backoff. API requests never wait on any
of this. Pending deliveries are reloaded from the database at start, so a restart loses none.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import itertools
import queue
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from psp_sandbox.faults import Faults
from psp_sandbox.settings import Settings
from psp_sandbox.store import Store


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Stripe's scheme: HMAC-SHA256 over "<t>.<body>" keyed by the whole `whsec_...` string."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class Result:
    delivery_id: int
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Connections:
    """One sender thread's keep-alive connections, by scheme, host and port."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._open: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        reused = key in self._open
        try:
            return self._send(key, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A kept-alive connection the receiver had closed: one fresh try, as browsers do.
            if not reused:
                raise
            return self._send(key, path, body, headers)

    def _send(self, key: tuple[str, str, int | None], path: str, body: bytes, headers: dict[str, str]) -> int:
        conn = self._open.get(key) or self._connect(key)
        self._open[key] = conn
        try:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
        except BaseException:
            conn.close()
            self._open.pop(key, None)
            raise
        if response.will_close:
            conn.close()
            self._open.pop(key, None)
        return response.status

    def _connect(self, key: tuple[str, str, int | None]) -> http.client.HTTPConnection:
        scheme, host, port = key
        factory = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return factory(host, port, timeout=self._timeout)


class Dispatcher:
    def __init__(self, store: Store, settings: Settings, faults: Faults) -> None:
        self._store = store
        self._settings = settings
        self._faults = faults
        self._heap: list[tuple[float, int, int]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._work: queue.Queue[int] = queue.Queue()
        self._results: queue.Queue[Result] = queue.Queue()
        self._paused = False

    def start(self) -> None:
        rows = self._store.conn().execute(
            "SELECT id, COALESCE(next_attempt, 0) FROM deliveries WHERE status = 'pending'"
        ).fetchall()
        for delivery_id, due in rows:
            self._push(due, delivery_id)
        threads = [self._schedule_loop, self._record_loop]
        threads += [self._send_loop] * self._settings.webhook_workers
        for target in threads:
            threading.Thread(target=target, daemon=True, name=f"webhooks-{target.__name__}").start()

    def pause(self, paused: bool) -> None:
        """Hold deliveries (they queue up) or release them: late webhooks on demand, and burst benchmarks."""
        with self._wakeup:
            self._paused = paused
            self._wakeup.notify()

    def schedule(self, delivery_ids: list[int]) -> None:
        """Queue new deliveries, applying the webhook faults once per delivery."""
        dropped = []
        for delivery_id in delivery_ids:
            fault, delay = self._faults.for_webhook()
            if fault == "drop":
                dropped.append(delivery_id)
                continue
            self._push(time.time() + delay, delivery_id)
            if fault == "duplicate":
                self._push(time.time(), delivery_id)
        if dropped:
            with self._store.write() as conn:
                conn.executemany(
                    "UPDATE deliveries SET status = 'dropped', updated = ? WHERE id = ?",
                    [(time.time(), d) for d in dropped],
                )

    def resend(self, delivery_ids: list[int]) -> None:
        with self._store.write() as conn:
            conn.executemany("UPDATE deliveries SET status = 'pending' WHERE id = ?", [(d,) for d in delivery_ids])
        for delivery_id in delivery_ids:
            self._push(time.time(), delivery_id)

    def idle(self) -> bool:
        """True when nothing is queued, being sent or waiting to be recorded (used by tests and benchmarks)."""
        with self._wakeup:
            return not self._heap and self._work.unfinished_tasks == 0 and self._results.unfinished_tasks == 0

    def _push(self, due: float, delivery_id: int) -> None:
        with self._wakeup:
            heapq.heappush(self._heap, (due, next(self._order), delivery_id))
            self._wakeup.notify()

    def _schedule_loop(self) -> None:
        while True:
            with self._wakeup:
                while self._paused or not self._heap or self._heap[0][0] > time.time():
                    self._wakeup.wait(None if self._paused or not self._heap else self._heap[0][0] - time.time())
                _, _, delivery_id = heapq.heappop(self._heap)
                # Counted before it leaves the heap, so idle() never sees a gap between the two.
                self._work.put(delivery_id)

    def _send_loop(self) -> None:
        connections = Connections(self._settings.webhook_timeout)
        while True:
            delivery_id = self._work.get()
            self._results.put(self._deliver(connections, delivery_id))
            self._work.task_done()

    def _deliver(self, connections: Connections, delivery_id: int) -> Result:
        found = self._store.conn().execute(
            "SELECT ev.data, json_extract(ep.data, '$.url'), json_extract(ep.private, '$.secret')"
            " FROM deliveries d JOIN objects ev ON ev.id = d.event_id JOIN objects ep ON ep.id = d.endpoint_id"
            " WHERE d.id = ?",
            (delivery_id,),
        ).fetchone()
        if found is None:
            return Result(delivery_id, None, "unknown delivery")
        body, url, secret = found[0].encode(), found[1], found[2]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(secret, body),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            return Result(delivery_id, connections.post(url, body, headers), None)
        except (OSError, http.client.HTTPException) as exc:
            return Result(delivery_id, None, f"{type(exc).__name__}: {exc}"[:500])

    def _record_loop(self) -> None:
        while True:
            batch = [self._results.get()]
            while len(batch) < 500:
                try:
                    batch.append(self._results.get_nowait())
                except queue.Empty:
                    break
            self._record(batch)
            for _ in batch:
                self._results.task_done()

    def _record(self, batch: list[Result]) -> None:
        now = time.time()
        retries = []
        with self._store.write() as conn:
            for result in batch:
                attempts = conn.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, updated = ?"
                    " WHERE id = ? RETURNING attempts, status",
                    (result.status, result.error, now, result.delivery_id),
                ).fetchone()
                if attempts is None:
                    continue
                if result.ok:
                    conn.execute("UPDATE deliveries SET status = 'succeeded' WHERE id = ?", (result.delivery_id,))
                elif attempts[1] == "succeeded":
                    continue  # a duplicate send failed after the delivery had already succeeded
                elif attempts[0] >= self._settings.webhook_max_attempts:
                    conn.execute("UPDATE deliveries SET status = 'failed' WHERE id = ?", (result.delivery_id,))
                else:
                    due = now + self._settings.retry_delay(attempts[0])
                    conn.execute("UPDATE deliveries SET next_attempt = ? WHERE id = ?", (due, result.delivery_id))
                    retries.append((due, result.delivery_id))
        for due, delivery_id in retries:
            self._push(due, delivery_id)
