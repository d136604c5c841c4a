"""PostgreSQL dropping a connection mid-request or mid-job (found by the fault soak, `pg_terminate_backend`):
a 503 the client can retry at once with the same Idempotency-Key, and a session that ends cleanly. And a host that
vanished mid-transaction (found by the scale-out test): its session is ended, so its locks stop blocking others."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from config import normalize_database_url, postgres_session_options
from tests.conftest import POSTGRES_ADMIN_URL
from tests.integration.conftest import WEBHOOK_SECRET
from tests.support import payments as pay
from webapp import dbsession
from webapp.dbtypes import utcnow
from webapp.domain.payment_requests import request_hash
from webapp.extensions import db
from webapp.models import IdempotencyKey, PaymentEvent
from webapp.services.idempotency import ABANDONED_AFTER


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("terminating a server backend is a PostgreSQL matter")


def _terminate(pid: int) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


@contextmanager
def terminated_before(statement_prefix: str) -> Iterator[list[int]]:
    """Terminate the connection's server backend right before the first statement starting with the prefix."""
    fired: list[int] = []

    def before(conn, _cursor, statement, *_args):
        if not fired and statement.lstrip().upper().startswith(statement_prefix):
            fired.append(conn.connection.dbapi_connection.info.backend_pid)
            _terminate(fired[0])

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_a_connection_terminated_mid_request_is_a_503_and_the_retry_goes_through(app, client, postgres_only):
    """The session path with a key: a key left in flight by a crashed request is taken over there (a new keyed
    checkout takes one statement, see the next test)."""
    merchant, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    body = pay.body(sellers)
    db.session.add(IdempotencyKey(merchant_id=merchant.id, key="outage-1", method_path="POST /v1/payments",
                                  request_hash=request_hash(body), created_at=utcnow() - ABANDONED_AFTER * 2))
    db.session.commit()
    with terminated_before("INSERT INTO PAYMENT_EVENTS") as fired:
        failed = api.create(body, idempotency_key="outage-1")
    assert fired, "the connection was never terminated: the test proves nothing"
    assert failed.status_code == 503, failed.get_data(as_text=True)
    assert failed.headers["Retry-After"] == "1"
    assert failed.json["error"]["code"] == "service_unavailable"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PaymentEvent)) == 0
    retried = api.create(body, idempotency_key="outage-1")  # at once: the key was released, not left in flight
    assert retried.status_code == 201, retried.json
    assert api.create(body, idempotency_key="outage-1").json["id"] == retried.json["id"]


def test_a_connection_terminated_under_a_direct_statement_is_a_503_and_the_retry_goes_through(app, client,
                                                                                          postgres_only):
    """The same outage on the paths that skip the session (webapp.dbdirect): a payment created without an
    Idempotency-Key, one created with a key, and a PSP webhook each fail as a 503 once, and the pool is renewed
    for the retry; the keyed one left nothing in flight (its statement failed whole), so its retry goes through at
    once and is then replayed."""
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    assert api.get("/v1/payments").status_code == 200  # the key is cached: the request needs no other statement
    body, keyed = pay.body(sellers), pay.body(sellers)
    sends = [lambda: api.create(body), lambda: api.create(keyed, idempotency_key="outage-2"),
             lambda: client.post("/webhooks/psp", data=_PAYLOAD, content_type="application/json",
                                 headers={"Stripe-Signature": pay.sign(_PAYLOAD, WEBHOOK_SECRET)})]
    for send in sends:
        db.session.execute(text("SELECT 1"))  # a pooled connection to kill (the first attempt renewed the pool)
        db.session.remove()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = %s", (db.engine.url.database,)).fetchone()[0]
        assert killed, "no pooled connection was terminated: the test proves nothing"
        failed = send()
        assert failed.status_code == 503, failed.get_data(as_text=True)
        assert failed.headers["Retry-After"] == "1"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    created = api.create(body)
    assert created.status_code == 201, created.json
    created_keyed = api.create(keyed, idempotency_key="outage-2")
    assert created_keyed.status_code == 201, created_keyed.json
    replayed = api.create(keyed, idempotency_key="outage-2")
    assert replayed.json == created_keyed.json and replayed.headers["Idempotent-Replayed"] == "true"
    stored = client.post("/webhooks/psp", data=_PAYLOAD, content_type="application/json",
                         headers={"Stripe-Signature": pay.sign(_PAYLOAD, WEBHOOK_SECRET)})
    assert stored.status_code == 200 and stored.json == {"received": True, "duplicate": False}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PaymentEvent)) == 2


_PAYLOAD = json.dumps({"id": "evt_outage", "object": "event", "type": "payment_intent.created",
                       "created": int(time.time()), "data": {"object": {"id": "pi_outage"}}})


def test_a_session_whose_connection_was_terminated_ends_without_raising(app, postgres_only):
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # a transaction is open
    _terminate(pid)
    dbsession.end_session()
    assert db.session.execute(text("SELECT 1")).scalar_one() == 1  # a fresh connection from the pool


def test_a_session_idle_inside_a_transaction_is_ended_and_its_locks_freed(postgres_only, database_url):
    url = normalize_database_url(database_url)
    vanished = create_engine(url, **postgres_session_options(url, 1))
    other = create_engine(url)
    try:
        with vanished.connect() as gone, other.connect() as alive:
            gone.execute(text("SELECT pg_advisory_xact_lock(4242)"))  # then its host goes silent
            assert alive.execute(text("SELECT pg_try_advisory_xact_lock(4242)")).scalar_one() is False
            alive.rollback()
            for _ in range(50):
                time.sleep(0.2)
                freed = alive.execute(text("SELECT pg_try_advisory_xact_lock(4242)")).scalar_one()
                alive.rollback()
                if freed:
                    break
            assert freed, "the idle session kept its lock"
            with pytest.raises(DBAPIError, match="idle-in-transaction"):
                gone.execute(text("SELECT 1"))
    finally:
        vanished.dispose()
        other.dispose()
