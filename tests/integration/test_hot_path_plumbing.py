"""The plumbing the hot paths rely on since they stopped paying for it on every request: a pooled database
connection is pinged only after sitting idle (and replaced when dead), and the API's own rate limiter keeps
counting in memory when its Redis cannot be reached."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import TooManyRequests

from tests.conftest import POSTGRES_ADMIN_URL
from webapp import dbengine
from webapp.api.ratelimit import ApiRateLimit
from webapp.extensions import db


def test_a_connection_killed_while_idle_in_the_pool_is_replaced(app, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("a PostgreSQL server ends the connection; SQLite has no server")
    db.engine.dispose()
    with db.engine.connect() as conn:
        victim = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone()[0]
    monkeypatch.setattr(dbengine, "PING_IF_IDLE_SECONDS", 0.0)  # the pooled connection counts as idle now
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != victim


def test_a_connection_in_steady_use_is_not_pinged_and_a_dead_one_is_dropped_after_its_error(app, backend):
    """No ping within the idle threshold: a connection killed in between fails its next statement (proof that
    nothing pinged it); the pool then drops it and the statement after that gets a new connection."""
    if backend != "postgresql":
        pytest.skip("a PostgreSQL server ends the connection; SQLite has no server")
    db.engine.dispose()
    with db.engine.connect() as conn:
        victim = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone()[0]
    with pytest.raises(OperationalError), db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != victim


def test_the_api_limit_counts_in_memory_when_redis_is_unreachable(app):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    limiter = ApiRateLimit("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with app.app_context():
        limiter.check("apikey:unreachable")
        limiter.check("apikey:unreachable")
        with pytest.raises(TooManyRequests) as refused:
            limiter.check("apikey:unreachable")
        limiter.check("apikey:someone-else")
    assert refused.value.retry_after and int(refused.value.retry_after) > 0


def test_a_direct_statement_never_holds_a_second_pooled_connection(app, backend, client):
    """With every other pooled connection taken (as many busy threads as the pool is large), a request whose session
    already holds a connection — its API key read from the database — still creates a payment: the session hands
    its connection back before the one-statement path takes one, so no thread waits for itself."""
    if backend != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    from tests.support import payments as pay
    from webapp.services import api_keys

    merchant, sellers, key = pay.merchant_with_sellers()
    merchant_id, request_body = merchant.id, pay.body(sellers)
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    pool = db.engine.pool
    capacity = pool.size() + pool._max_overflow
    held = [db.engine.raw_connection() for _ in range(capacity - 1)]  # the other threads' connections
    try:
        api_keys.forget_merchant(merchant_id)  # the key is read from the database: that takes the last connection
        created = client.post("/v1/payments", json=request_body, headers={"Authorization": f"Bearer {key}"})
        assert created.status_code == 201, created.json
    finally:
        for connection in held:
            connection.close()


def test_the_checkout_page_reads_in_one_statement_outside_a_transaction(app, backend, client, monkeypatch):
    """On PostgreSQL the checkout page (loaded on every press of Pay) reads with one statement sent by itself in
    autocommit: no BEGIN before it, no ROLLBACK after it, no session."""
    if backend != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    from tests.support import payments as pay

    _, sellers, key = pay.merchant_with_sellers()
    created = pay.Api(client, key).create(pay.body(sellers))
    assert created.status_code == 201
    db.session.remove()
    sent: list[tuple[str, bool]] = []
    execute = psycopg.Cursor.execute

    def counted(cursor, query, *args, **kwargs):
        sent.append((str(query).split()[0], cursor.connection.autocommit))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    page = client.get(f"/checkout/{created.get_json()['id']}")
    assert page.status_code == 200 and 'id="pay-button"' in page.get_data(as_text=True)
    assert sent == [("SELECT", True)]
