"""Operations on the real processes: a payment made through gunicorn, the RQ workers and the PSP sandbox moves
the Prometheus counters that any web process serves at /metrics, and its request id leads through the JSON logs
of the web server and the worker that registered it with the PSP."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from config import new_encryption_key
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.support.forms import csrf_token
from tests.support.processes import free_port, python, start, wait_http
from tests.support.sandbox import pay_session
from tests.support.system import System, start_system
from workers.queues import LOW

pytestmark = pytest.mark.slow
T = TypeVar("T")


@pytest.fixture(scope="module")
def ops_system(postgres_server, redis_url, tmp_path_factory, logs_dir) -> Iterator[System]:
    name, url = create_postgres_database(postgres_server)
    own_redis = re.sub(r"/\d+$", "/11", redis_url)  # its own queues: no other system's worker takes its jobs
    redis.Redis.from_url(own_redis).flushdb()
    running = start_system(tmp_path_factory.mktemp("ops-instance"), url, own_redis, logs_dir / "observability",
                           workers=2, extra_env={"LEDGER_VERIFY_RECHECK_SECONDS": "5"})
    yield running
    running.stop()
    drop_postgres_database(postgres_server, name)


def wait_until(check: Callable[[], T | None], *, what: str, timeout: float = 30, interval: float = 0.2) -> T:
    """`check()`'s first truthy answer; the workers and the PSP's webhooks work in the background."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def scrape(system: System) -> dict[str, dict[tuple, float]]:
    """/metrics as {sample name: {sorted label pairs: value}}."""
    answer = requests.get(f"{system.web_url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def total(samples: dict, name: str, **labels: str) -> float:
    """Sum over the series of `name` whose labels include `labels`."""
    return sum(v for key, v in samples.get(name, {}).items() if set(labels.items()) <= set(key))


def log_lines(system: System, process: str) -> list[dict]:
    lines = []
    for raw in Path(system.processes[process].log_path).read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def worker_lines(system: System) -> list[dict]:
    return [line for name in system.processes if name.startswith("worker") for line in log_lines(system, name)]


def pay_one(system: System, create_request_id: str, pay_request_id: str) -> tuple[dict, str]:
    """Create a payment over the API, press Pay on its page, pay at the PSP; returns (payment, session id)."""
    api = {"Authorization": f"Bearer {system.demo['DEMO_API_KEY']}"}
    sellers = system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
    checkout_id = "chk_ops_" + secrets.token_hex(4)
    body = {"checkout_id": checkout_id, "buyer_info": {"email": "ops@example.com"}, "payment_orders": [
        {"payment_order_id": f"{checkout_id}-0", "seller_account": sellers[0], "amount": "12.34", "currency": "USD"},
        {"payment_order_id": f"{checkout_id}-1", "seller_account": sellers[1], "amount": "5.00", "currency": "USD"}]}
    created = requests.post(f"{system.web_url}/v1/payments", timeout=10, json=body,
                            headers={**api, "Request-Id": create_request_id})
    assert created.status_code == 201, created.text
    assert created.headers["Request-Id"] == create_request_id
    payment = created.json()
    buyer = requests.Session()
    page = buyer.get(f"{system.web_url}/checkout/{payment['id']}", timeout=10)
    pressed = buyer.post(f"{system.web_url}/checkout/{payment['id']}/pay", timeout=10,
                         data={"csrf_token": csrf_token(page.text)}, headers={"Request-Id": pay_request_id})
    assert pressed.status_code < 400, pressed.text
    assert pressed.headers["Request-Id"] == pay_request_id

    def session_url() -> str | None:
        status = buyer.get(f"{system.web_url}/checkout/{payment['id']}/status", timeout=10).json()
        return status.get("redirect_url")

    url = wait_until(session_url, what="the PSP session")
    session_id = re.search(r"cs_[A-Za-z0-9_]+", url)
    assert session_id, url
    paid = pay_session(system.psp_url, session_id.group(0), card_number="4242424242424242", expiry="12/34",
                       cvc="123", name="Ops Buyer")
    assert paid["status"] == "succeeded", paid
    wait_until(lambda: buyer.get(f"{system.web_url}/checkout/{payment['id']}/status", timeout=10)
               .json()["status"] == "SUCCESS", what="the payment applied")
    return payment, session_id.group(0)


def test_a_real_payment_moves_the_counters_every_web_process_serves(ops_system: System):
    before = scrape(ops_system)
    payment, _ = pay_one(ops_system, "req_ops_create_" + secrets.token_hex(6), "req_ops_pay_" + secrets.token_hex(6))

    def counted() -> dict | None:
        samples = scrape(ops_system)
        moved = value(samples, "paysplit_payments_total", status="SUCCESS") > value(
            before, "paysplit_payments_total", status="SUCCESS")
        return samples if moved else None

    after = wait_until(counted, what="paysplit_payments_total{status=SUCCESS} to move")
    for name, labels, grew_by in [
        ("paysplit_payments_total", {"status": "NOT_STARTED"}, 1),
        ("paysplit_payments_total", {"status": "SUCCESS"}, 1),
        ("paysplit_payment_orders_total", {"status": "SUCCESS"}, 2),
        ("paysplit_payments_amount_minor_total", {"status": "SUCCESS", "currency": "USD"}, 1734),
        ("paysplit_payment_orders_amount_minor_total", {"status": "SUCCESS", "currency": "USD"}, 1734),
        ("paysplit_psp_requests_total", {"operation": "create_checkout_session", "outcome": "ok"}, 1),
        ("paysplit_http_requests_total", {"route": "/v1/payments", "method": "POST", "status": "201"}, 1),
        ("paysplit_http_requests_total", {"route": "/checkout/<payment_event_id>/pay", "method": "POST"}, 1),
    ]:
        assert total(after, name, **labels) - total(before, name, **labels) >= grew_by, (name, labels)
    # The route template, never the raw path, labels the series.
    assert not any(payment["id"] in dict(key).get("route", "") for key in after["paysplit_http_requests_total"])
    assert total(after, "paysplit_http_request_duration_seconds_count", route="/v1/payments") >= 1
    assert total(after, "paysplit_webhook_lag_seconds_count") > total(before, "paysplit_webhook_lag_seconds_count")
    assert total(after, "paysplit_psp_request_duration_seconds_count", operation="create_checkout_session") >= 1
    # Gauges read from the database at scrape time are there too (no mismatch is open, no verify has run yet).
    scraped = requests.get(f"{ops_system.web_url}/metrics", timeout=10).text
    for family in ("paysplit_reconciliation_mismatches", "paysplit_ledger_verify_ok"):
        assert f"# TYPE {family} gauge" in scraped


def verify_ledger(system: System, after: float) -> dict:
    """Queue the job the scheduler runs daily (LEDGER_VERIFY_AT) as RQ's cron does, and wait for its result."""
    Queue(LOW, connection=redis.Redis.from_url(system.env["REDIS_URL"])).enqueue("workers.jobs.verify_ledger",
                                                                                result_ttl=0)

    def verified() -> dict | None:
        samples = scrape(system)
        return samples if value(samples, "paysplit_ledger_verify_timestamp_seconds") > after else None

    return wait_until(verified, what="a stored ledger verification", timeout=60)


def test_the_scheduled_ledger_verify_feeds_the_gauge(ops_system: System):
    pay_one(ops_system, "req_ops_create_" + secrets.token_hex(6), "req_ops_pay_" + secrets.token_hex(6))
    samples = verify_ledger(ops_system, after=0)
    assert value(samples, "paysplit_ledger_verify_ok") == 1.0
    # A cached balance that no longer matches its postings: the next verification reports it.
    with psycopg.connect(ops_system.env["DATABASE_URL"].replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("UPDATE ledger_accounts SET balance = balance + 1 "
                     "WHERE id = (SELECT id FROM ledger_accounts ORDER BY id LIMIT 1)")
        try:
            samples = verify_ledger(ops_system, after=value(samples, "paysplit_ledger_verify_timestamp_seconds"))
            assert value(samples, "paysplit_ledger_verify_ok") == 0.0
        finally:
            conn.execute("UPDATE ledger_accounts SET balance = balance - 1 "
                         "WHERE id = (SELECT id FROM ledger_accounts ORDER BY id LIMIT 1)")


def test_one_payment_followed_through_web_and_worker_logs_by_its_request_id(ops_system: System):
    create_id, pay_id = "req_ops_create_" + secrets.token_hex(6), "req_ops_pay_" + secrets.token_hex(6)
    payment, session_id = pay_one(ops_system, create_id, pay_id)

    web = log_lines(ops_system, "web")
    created = [line for line in web if line.get("request_id") == create_id]
    assert created and all(line["payment_id"] == payment["id"] for line in created if line["event"] == "request")
    request_line = next(line for line in created if line["event"] == "request")
    assert request_line["route"] == "/v1/payments" and request_line["status"] == 201
    for key in ("timestamp", "level", "logger"):
        assert key in request_line
    assert any(line.get("request_id") == pay_id and line["event"] == "request" for line in web)

    def registered() -> list[dict]:
        return [line for line in worker_lines(ops_system)
                if line.get("request_id") == pay_id and line.get("event") == "psp call"]

    psp_calls = wait_until(registered, what="the worker's PSP call logged")
    call = psp_calls[0]
    assert call["operation"] == "create_checkout_session" and call["outcome"] == "ok"
    assert call["payment_id"] == payment["id"]
    assert call["logger"] == "webapp.psp.stripe_adapter"
    # The PSP's own request id is on our line, and the sandbox logged the same id for the call it answered.
    assert call["psp_request_id"].startswith("req_")
    sandbox = log_lines(ops_system, "psp")
    assert any(line.get("request_id") == call["psp_request_id"] and line["event"] == "api request" for line in sandbox)
    # No line of any process, tracebacks included, holds the card number the buyer typed at the PSP.
    for name in ops_system.processes:
        assert "4242424242424242" not in Path(ops_system.processes[name].log_path).read_text(errors="replace")
    assert session_id


def test_the_internal_port_serves_the_same_metrics_without_the_web_port(ops_system: System, tmp_path):
    """Production without a token: `flask metrics serve` on an internal address shows every process's counts."""
    # A payment and a verification on record, whichever tests of this module ran before (or did not).
    pay_one(ops_system, "req_ops_internal_create", "req_ops_internal_pay")
    verify_ledger(ops_system, after=0)
    port = free_port()
    server = start("metrics", python("-m", "flask", "--app", "wsgi", "metrics", "serve", "--port", str(port)),
                   tmp_path, {**ops_system.env, "APP_ENV": "production", "METRICS_PUBLIC": "false",
                              "SECRET_KEY": "x" * 40, "DATA_ENCRYPTION_KEY": new_encryption_key(),
                              "STRIPE_API_KEY": "sk_test_unused"})
    try:
        wait_http(server, f"http://127.0.0.1:{port}/metrics")
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        internal: dict[str, dict[tuple, float]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                internal.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
        assert {"paysplit_http_requests_total", "paysplit_psp_requests_total", "paysplit_ledger_verify_ok"} <= set(
            internal)
        # The same files, so the same counts as a web process serves (no payment moves during this test).
        assert total(internal, "paysplit_payments_total") == total(scrape(ops_system), "paysplit_payments_total") > 0
    finally:
        server.stop()
