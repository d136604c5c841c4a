"""One statement straight on a pooled psycopg connection, committed by itself: the hot paths' way to PostgreSQL.

Creating a payment and storing a PSP webhook each come down to one statement, and the checkout page reads with
one. Through the ORM session that statement cost three round trips (BEGIN, the statement, COMMIT or ROLLBACK) and
about 0.35 ms of SQLAlchemy's execution and transaction machinery; here it is one round trip in autocommit mode (a
single statement is atomic by itself and reads one snapshot) on a connection from the engine's own pool, so the idle
ping of webapp.dbengine and the pool's recycling still apply.

Errors keep the meaning they have everywhere else: a psycopg error leaves as the SQLAlchemy exception the session
would have raised (DataError, IntegrityError, OperationalError…, so the app's error handlers answer the same), and
a connection found dead is invalidated together with every pooled connection opened before it, as SQLAlchemy does
on a disconnect, so the client's retry gets a fresh one.

PostgreSQL only: SQLite keeps the session path, with the same behaviour (both are tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy.exc import DBAPIError

from webapp.extensions import db


def available() -> bool:
    """Whether the hot paths may take the direct way (the database is PostgreSQL)."""
    return db.engine.dialect.name == "postgresql"


def _translated(error: psycopg.Error, statement: str, params: Any, pooled) -> DBAPIError:
    dialect = db.engine.dialect
    dead = dialect.is_disconnect(cast(Any, error), pooled.driver_connection, None)
    if dead:
        db.engine.pool._invalidate(pooled, error)  # this connection and every older one, as SQLAlchemy does
    return cast(DBAPIError, DBAPIError.instance(statement, params, error, psycopg.Error,
                                                connection_invalidated=dead, dialect=dialect))


@contextmanager
def _autocommit_connection() -> Iterator[Any]:
    # A thread never holds two pooled connections at once: with as many threads as the pool has connections, each
    # holding its session's connection (e.g. from reading an API key) and waiting for a second one, every thread
    # would wait for the pool's timeout. So the request's session ends its transaction (reads only, on these
    # paths) and hands its connection back first.
    # A request that has no session yet (a webhook) is not given one just to ask.
    if db.session.registry.has() and db.session().in_transaction():
        db.session.commit()
    pooled = db.engine.raw_connection()
    try:
        connection = cast(psycopg.Connection, pooled.driver_connection)
        connection.autocommit = True
        try:
            yield pooled, connection
        finally:
            if not (connection.closed or connection.broken):
                connection.autocommit = False
    finally:
        pooled.close()


def fetch_one(statement: str, params: dict[str, Any]) -> tuple | None:
    """Run one statement in a transaction of its own (committed when it returns) and return its first row."""
    return _run(statement, params, lambda cursor: cursor.fetchone())


def fetch_all(statement: str, params: dict[str, Any]) -> list:
    """Run one read by itself (a single statement sees one snapshot: no BEGIN, no ROLLBACK) and return its rows as
    named tuples, like SQLAlchemy's rows."""
    return _run(statement, params, lambda cursor: cursor.fetchall(), row_factory=namedtuple_row)


def _run(statement: str, params: dict[str, Any], fetch: Callable[[Any], Any], **cursor_options: Any) -> Any:
    with _autocommit_connection() as (pooled, connection):
        try:
            return fetch(connection.cursor(**cursor_options).execute(statement, params))
        except psycopg.Error as error:
            raise _translated(error, statement, params, pooled) from error
