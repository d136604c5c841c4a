"""Engine behaviour per database.

SQLite (the embedded default) gets WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE transactions:
with several processes writing, a deferred transaction that read first and writes later can fail at
once with "database is locked"; taking the write lock up front makes writers queue instead.
"""

from __future__ import annotations

import sqlite3
import time
from typing import cast

from sqlalchemy import Table, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from sqlalchemy.sql import FromClause


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# A pooled connection idle for longer than this is pinged before use (a database restart while the pool sat idle
# would otherwise fail the next request); connections in steady use are not, so a busy server pays no ping.
PING_IF_IDLE_SECONDS = 10.0


@event.listens_for(Pool, "checkin")
def _note_idle_since(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_IF_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:
        # The pool drops this connection and checks out another (SQLAlchemy's documented pessimistic pattern).
        raise exc.DisconnectionError() from error


def insert_or_ignore(table: FromClause, dialect_name: str):
    """An INSERT that can take `.on_conflict_do_nothing()` on the running database (both dialects can)."""
    return (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(cast(Table, table))
