"""Ending a request's or a job's database session when PostgreSQL dropped its connection.

Flask-SQLAlchemy ends every app context with `session.remove()`, which rolls back. When the server terminated
the connection (a failover, `pg_terminate_backend`, a network cut) that rollback raises, and an exception in
teardown escapes Flask entirely: the client gets gunicorn's bare 500 even when its request had committed, and
a worker's job fails after its work was done. The transaction is gone with the connection anyway, so the
session is discarded instead and the pool replaces the connection.
"""

from __future__ import annotations

import contextlib
import logging

from flask import Flask
from sqlalchemy.exc import DBAPIError

from webapp.extensions import db

log = logging.getLogger(__name__)


def end_session(_exc: BaseException | None = None) -> None:
    try:
        db.session.remove()
    except DBAPIError as exc:
        log.warning("database connection lost at the end of a request or job (%s); session discarded",
                    type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
        with contextlib.suppress(DBAPIError):
            db.session().invalidate()
        db.session.registry.clear()


def register(app: Flask) -> None:
    """Call after `db.init_app`: teardown functions run in reverse order, so this one runs before
    Flask-SQLAlchemy's own (which then finds an empty session)."""
    app.teardown_appcontext(end_session)
