"""Failures on the way: the PSP erroring or down, a worker killed mid-batch, Redis flushed."""

import contextlib
import os
import time

import pytest
import redis
from sqlalchemy import func, select

from tests.integration.conftest import WEBHOOK_SECRET
from tests.support import payments as pay
from tests.support.processes import python, start
from tests.support.sandbox import API_KEY, clear_faults, pay_session, set_faults, stripe_client
from webapp.extensions import db
from webapp.models import OutboxMessage, PaymentEvent
from workers import jobs


@pytest.fixture
def shop(client):
    _, sellers, key = pay.merchant_with_sellers()
    return sellers, pay.Api(client, key)


@pytest.fixture
def faults(gateway_psp):
    yield lambda config: set_faults(gateway_psp.url, config)
    clear_faults(gateway_psp.url)


def _sessions_for(psp_url: str, payment_event_id: str) -> list:
    listed = stripe_client(psp_url).v1.checkout.sessions.list(params={"limit": 100})
    return [s for s in listed.auto_paging_iter() if s.client_reference_id == payment_event_id]


def _drain_until(predicate, rounds: int = 60):
    for _ in range(rounds):
        with contextlib.suppress(jobs.DeadLetter):  # some rows may give up; the rest must still get there
            pay.drain("checkout.register")
        if predicate():
            return
        time.sleep(0.06)
    raise AssertionError("never got there")


def test_psp_errors_and_timeouts_are_retried_without_a_second_session(shop, client, gateway_psp, faults):
    sellers, api = shop
    created = [api.create(pay.body(sellers)).json["id"] for _ in range(4)]
    faults(
        {
            "seed": 3,
            "api": [
                {
                    "path_prefix": "/v1/checkout/sessions",
                    "error_rate": 0.6,
                    "error_kinds": ["500", "503", "timeout"],
                    "timeout_seconds": 0.2,
                }
            ],
        }
    )
    for event_id in created:
        pay.press_pay(client, event_id)
    _drain_until(lambda: all(pay.event(e).status == "EXECUTING" for e in created))
    db.session.rollback()
    retried = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 0))
    assert retried > 0, "the fault never hit: the test proves nothing"
    clear_faults(gateway_psp.url)
    for event_id in created:
        sessions = _sessions_for(gateway_psp.url, event_id)
        assert len(sessions) == 1, f"{event_id} has {len(sessions)} PSP sessions"
        assert pay.event(event_id).psp_session_id == sessions[0].id


def test_psp_down_tells_the_buyer_then_fails_into_the_dead_letter_queue(app, shop, client, faults):
    sellers, api = shop
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    event_id = api.create(pay.body(sellers)).json["id"]
    faults({"seed": 1, "api": [{"path_prefix": "/v1/checkout/sessions", "error_rate": 1.0, "error_kinds": ["503"]}]})
    pay.press_pay(client, event_id)
    pay.drain("checkout.register")
    status = client.get(f"/checkout/{event_id}/status").json
    assert status["state"] == "connecting" and "not responding" in status["message"]
    with pytest.raises(jobs.DeadLetter, match=event_id):
        for _ in range(20):
            time.sleep(0.1)
            pay.drain("checkout.register")
    status = client.get(f"/checkout/{event_id}/status").json
    assert status["state"] == "failed" and status["can_retry"]
    assert pay.event(event_id).failure_code == "psp_unavailable"


def test_buyer_can_retry_after_the_psp_came_back(app, shop, client, gateway_psp, faults):
    sellers, api = shop
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    event_id = api.create(pay.body(sellers)).json["id"]
    faults({"seed": 1, "api": [{"path_prefix": "/v1/checkout/sessions", "error_rate": 1.0, "error_kinds": ["500"]}]})
    pay.press_pay(client, event_id)
    with pytest.raises(jobs.DeadLetter):
        pay.drain("checkout.register")
    clear_faults(gateway_psp.url)
    pay.press_pay(client, event_id)  # "Try again"
    pay.drain("checkout.register")
    event = pay.event(event_id)
    assert (event.status, event.attempt) == ("EXECUTING", 2)
    pay_session(gateway_psp.url, event.psp_session_id, card_number="4242424242424242")
    assert pay.settle(event_id, "SUCCESS").attempt == 2


def _worker_env(app, redis_url: str) -> dict[str, str]:
    config = app.config
    url = config["SQLALCHEMY_DATABASE_URI"]
    return {
        "APP_ENV": "test",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "STRIPE_API_BASE": config["STRIPE_API_BASE"],
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
        "RELAY_INTERVAL_SECONDS": "1",
        "OUTBOX_BACKOFF_SECONDS": "0.1",
        "OUTBOX_LEASE_SECONDS": "3",
        "INSTANCE_PATH": os.environ["INSTANCE_PATH"],
    }


def test_worker_killed_mid_batch_and_redis_flushed_loses_nothing(
    app, shop, client, gateway_psp, faults, redis_url, logs_dir
):
    sellers, api = shop
    ids = [api.create(pay.body(sellers)).json["id"] for _ in range(30)]
    faults({"seed": 5, "api": [{"path_prefix": "/v1/checkout/sessions", "latency_ms": 150}]})
    for event_id in ids:
        pay.press_pay(client, event_id)  # 30 wake-ups queued in Redis
    db.session.rollback()
    env = _worker_env(app, redis_url)
    processes = [start("doomed-worker", python("-m", "workers"), logs_dir, env)]

    def registered() -> int:
        db.session.rollback()
        return (
            db.session.scalar(
                select(func.count())
                .select_from(PaymentEvent)
                .where(PaymentEvent.id.in_(ids), PaymentEvent.status == "EXECUTING")
            )
            or 0
        )

    try:
        pay.wait_until(lambda: registered() > 0, 60, what="the worker to start the batch")
        processes[0].kill()  # SIGKILL in the middle of the batch
        assert registered() < len(ids), "the batch finished before the kill: the test proves nothing"
        redis.Redis.from_url(redis_url).flushdb()  # every queued job and wake-up flag is gone too
        clear_faults(gateway_psp.url)
        db.session.rollback()
        processes.append(start("worker", python("-m", "workers"), logs_dir, env))
        processes.append(start("relay", python("-m", "workers", "cron"), logs_dir, env))
        pay.wait_until(lambda: registered() == len(ids), 60, 0.2, "every checkout to be registered")
        for event_id in ids:
            pay_session(gateway_psp.url, pay.event(event_id).psp_session_id, card_number="4242424242424242")
        db.session.rollback()
        pay.wait_until(
            lambda: (
                db.session.scalar(
                    select(func.count())
                    .select_from(PaymentEvent)
                    .where(PaymentEvent.id.in_(ids), PaymentEvent.status == "SUCCESS")
                )
                == len(ids)
            ),
            60,
            0.2,
            "all paid",
        )
    finally:
        for process in processes:
            process.kill()
    for event_id in ids:
        assert len(_sessions_for(gateway_psp.url, event_id)) == 1
