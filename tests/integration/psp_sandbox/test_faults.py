"""Fault injection: API latency and errors per path prefix, webhook drop/duplicate/delay, reproducible seeds."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from tests.support.sandbox import (
    WebhookReceiver,
    checkout_params,
    clear_faults,
    deliveries,
    set_faults,
    start_sandbox,
    stripe_client,
    wait_deliveries_idle,
)


@pytest.fixture
def faulty(tmp_path):
    receiver = WebhookReceiver()
    sandbox = start_sandbox(tmp_path, webhook_url=receiver.url, webhook_secret="whsec_faults")
    yield sandbox, stripe_client(sandbox.url), receiver
    sandbox.stop()
    receiver.close()


def _expire_sessions(psp, count):
    return [psp.v1.checkout.sessions.expire(psp.v1.checkout.sessions.create(params=checkout_params()).id).id
            for _ in range(count)]


def test_api_errors_per_path_prefix(faulty):
    sandbox, psp, _ = faulty
    set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/balance", "error_rate": 1.0, "error_kinds": ["503"]}]})
    with pytest.raises(stripe.APIError) as raised:
        psp.v1.balance.retrieve()
    assert raised.value.http_status == 503
    assert psp.v1.checkout.sessions.create(params=checkout_params()).status == "open", "other paths work"
    set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/", "error_rate": 1.0, "error_kinds": ["500"]}]})
    with pytest.raises(stripe.APIError) as raised:
        psp.v1.checkout.sessions.create(params=checkout_params())
    assert raised.value.http_status == 500
    clear_faults(sandbox.url)
    assert psp.v1.balance.retrieve().object == "balance"


def test_sdk_retries_through_intermittent_errors(faulty):
    sandbox, _, _ = faulty
    set_faults(sandbox.url, {"seed": 3, "api": [{"path_prefix": "/v1/checkout", "error_rate": 0.5}]})
    retrying = stripe_client(sandbox.url, max_network_retries=8)
    session = retrying.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "retry-1"})
    assert session.status == "open"


def test_timeout_runs_the_request_and_the_retry_replays_it(faulty):
    sandbox, psp, _ = faulty
    set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/checkout/sessions", "error_rate": 1.0,
                                      "error_kinds": ["timeout"], "timeout_seconds": 0.3}]})
    with pytest.raises(stripe.APIError) as raised:
        psp.v1.checkout.sessions.create(params=checkout_params(client_reference_id="timed-out"),
                                        options={"idempotency_key": "timeout-key"})
    assert raised.value.http_status == 504
    clear_faults(sandbox.url)
    replayed = psp.v1.checkout.sessions.create(params=checkout_params(client_reference_id="timed-out"),
                                               options={"idempotency_key": "timeout-key"})
    assert replayed.last_response.headers.get("Idempotent-Replayed") == "true"
    assert [s.id for s in psp.v1.checkout.sessions.list(params={"client_reference_id": "timed-out"}).data] == [
        replayed.id]


def test_api_latency(faulty):
    sandbox, psp, _ = faulty
    set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/balance", "latency_ms": 400}]})
    started = time.monotonic()
    psp.v1.balance.retrieve()
    assert time.monotonic() - started >= 0.39, "the injected delay is a lower bound"


def test_seed_makes_api_faults_reproducible(faulty):
    sandbox, _, _ = faulty
    config = {"seed": 42, "api": [{"path_prefix": "/v1/balance", "error_rate": 0.5, "error_kinds": ["500", "503"]}]}
    headers = {"Authorization": "Bearer sk_test_x"}

    def pattern():
        set_faults(sandbox.url, config)
        return [requests.get(f"{sandbox.url}/v1/balance", headers=headers, timeout=10).status_code
                for _ in range(30)]

    first, second = pattern(), pattern()
    assert first == second
    assert {200, 500, 503} <= set(first)
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=10).json()["seed"] == 42


def test_webhook_drop(faulty):
    sandbox, psp, receiver = faulty
    set_faults(sandbox.url, {"webhooks": {"drop_rate": 1.0}})
    _expire_sessions(psp, 3)
    wait_deliveries_idle(sandbox.url)
    assert receiver.events() == []
    assert {d["status"] for d in deliveries(sandbox.url)} == {"dropped"}
    assert len(psp.v1.events.list().data) == 3, "dropped events can still be polled"


def test_webhook_duplicate(faulty):
    sandbox, psp, receiver = faulty
    set_faults(sandbox.url, {"webhooks": {"duplicate_rate": 1.0}})
    _expire_sessions(psp, 2)
    events = receiver.wait_for(lambda events: len(events) == 4)
    assert len({e["id"] for e in events}) == 2


def test_webhook_delay_and_reorder(faulty):
    sandbox, psp, receiver = faulty
    set_faults(sandbox.url, {"seed": 7, "webhooks": {"delay_rate": 1.0, "max_delay_seconds": 1.5}})
    sessions = _expire_sessions(psp, 8)
    events = receiver.wait_for(lambda events: len(events) == 8)
    received = [e["data"]["object"]["id"] for e in events]
    assert sorted(received) == sorted(sessions)
    assert received != sessions, "seed 7 delays them out of creation order"
    clear_faults(sandbox.url)


def test_invalid_fault_config_is_refused(faulty):
    sandbox, _, _ = faulty
    response = requests.post(f"{sandbox.url}/_sandbox/faults", json={"webhooks": {"drop_rate": 2}}, timeout=10)
    assert response.status_code == 400
    response = requests.post(f"{sandbox.url}/_sandbox/faults", json={"api": [{"error_kinds": ["418"]}]}, timeout=10)
    assert response.status_code == 400
