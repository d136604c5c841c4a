"""SQLite persistence: Stripe objects as JSON documents, plus the sandbox's own bookkeeping.

One connection per thread (SQLite connections must not be shared across threads) in WAL mode, so
readers never wait for the writer. Writes go through `write()`, which also takes an in-process lock:
all state lives in this one process, and queueing on a Python lock is cheaper than SQLite's
busy-wait sleeps.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    account TEXT NOT NULL,
    created INTEGER NOT NULL,
    data TEXT NOT NULL,
    private TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS objects_by_type ON objects (account, type, seq);
CREATE INDEX IF NOT EXISTS objects_by_type_only ON objects (type, seq);
CREATE TABLE IF NOT EXISTS balances (
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    available INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, currency)
);
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY,
    due INTEGER NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS timers_by_due ON timers (due, id);
CREATE TABLE IF NOT EXISTS idempotency (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (account, key)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL,
    last_status INTEGER,
    last_error TEXT,
    updated REAL
);
CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries (event_id);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (status) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Row(dict):
    """A stored object: its public Stripe JSON plus `private` sandbox-only state."""

    def __init__(self, data: dict, private: dict, account: str, seq: int) -> None:
        super().__init__(data)
        self.private = private
        self.account = account
        self.seq = seq


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()

    def create_schema(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn().executescript(SCHEMA)

    def reset(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode loses at most the last transactions on power loss, never consistency.
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.hooks = None
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls join the outer one. Hooks from `after_commit` run after COMMIT."""
        conn = self.conn()
        if self._local.hooks is not None:
            yield conn
            return
        with self._write_lock:
            self._local.hooks = []
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._local.hooks = None
                raise
            hooks, self._local.hooks = self._local.hooks, None
        for hook in hooks:
            hook()

    def after_commit(self, hook: Callable[[], None]) -> None:
        if getattr(self._local, "hooks", None) is None:
            raise RuntimeError("after_commit outside a write transaction")
        self._local.hooks.append(hook)

    # Objects

    def insert(self, obj: dict, account: str, private: dict | None = None) -> Row:
        cursor = self.conn().execute(
            "INSERT INTO objects (id, type, account, created, data, private) VALUES (?, ?, ?, ?, ?, ?)",
            (obj["id"], obj["object"], account, obj.get("created", 0), json.dumps(obj), json.dumps(private or {})),
        )
        return Row(obj, private or {}, account, cursor.lastrowid or 0)

    def save(self, row: Row) -> None:
        self.conn().execute(
            "UPDATE objects SET data = ?, private = ? WHERE id = ?",
            (json.dumps(row), json.dumps(row.private), row["id"]),
        )

    def get(self, object_id: str, account: str | None = None, type_: str | None = None) -> Row | None:
        sql = "SELECT data, private, account, seq FROM objects WHERE id = ?"
        args: list[Any] = [object_id]
        if account is not None:
            sql += " AND account = ?"
            args.append(account)
        if type_ is not None:
            sql += " AND type = ?"
            args.append(type_)
        found = self.conn().execute(sql, args).fetchone()
        return Row(json.loads(found[0]), json.loads(found[1]), found[2], found[3]) if found else None

    def select(self, where: str, args: list[Any], order: str = "seq DESC", limit: int | None = None) -> list[Row]:
        # `where` and `order` are written by the sandbox's own code; values always travel in `args`.
        sql = f"SELECT data, private, account, seq FROM objects WHERE {where} ORDER BY {order}"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Row(json.loads(d), json.loads(p), a, s) for d, p, a, s in self.conn().execute(sql, args)]

    # Key-value settings (clock offset, faults)

    def kv_get(self, key: str, default: Any = None) -> Any:
        found = self.conn().execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(found[0]) if found else default

    def kv_set(self, key: str, value: Any) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # Timers: business-time deadlines (availability, expiry, settlement, payouts)

    def add_timer(self, due: int, kind: str, object_id: str) -> None:
        self.conn().execute("INSERT INTO timers (due, kind, object_id) VALUES (?, ?, ?)", (due, kind, object_id))

    def due_timers(self, now: int, limit: int = 200) -> list[tuple[int, str, str]]:
        return self.conn().execute(
            "SELECT id, kind, object_id FROM timers WHERE due <= ? ORDER BY due, id LIMIT ?", (now, limit)
        ).fetchall()

    def delete_timer(self, timer_id: int) -> None:
        self.conn().execute("DELETE FROM timers WHERE id = ?", (timer_id,))
