"""Webhook delivery throughput, and whether a slow endpoint delays the others.

Against a fresh PostgreSQL database, events are recorded through the real service (`webhook_events.emit`, the call
the payment, refund, payout and seller services make) and delivered by `webhook_delivery.deliver_due` (what the RQ
job `drain("webhooks.deliver")` runs, in a loop), in this process, to `bench/webhook_receiver.py` in its own
process: signed per Standard Webhooks, the address resolved and checked per attempt, every attempt logged.

1. Throughput: N events to one fast endpoint; deliveries per second from the first attempt to the last.
2. A slow endpoint (answers after SLOW seconds) subscribed to the same N events next to a fast one: how long the
   fast endpoint's deliveries take now, against run 1.

    .venv/bin/python bench/webhook_delivery.py [--events 5000] [--slow 2] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))

import requests  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.harness import machine  # noqa: E402
from config import load_config  # noqa: E402
from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database  # noqa: E402
from tests.support.processes import free_port, python, start, wait_http  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.domain.webhooks import EventType  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import WebhookAttempt, WebhookDelivery  # noqa: E402
from webapp.services import accounts, webhook_delivery, webhook_endpoints, webhook_events  # noqa: E402
from webapp.services.webhook_endpoints import NewEndpoint  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
OBJECT = {"id": "sel_bench", "object": "seller_account", "display_name": "Bench seller", "status": "active",
          "payout_schedule": {"interval": "daily", "delay_days": 2}, "bank_account": {"last4": "3000"}}


def record_events(merchant_id: str, count: int) -> None:
    for first in range(0, count, 500):
        for index in range(first, min(first + 500, count)):
            webhook_events.emit(merchant_id, EventType.SELLER_ACCOUNT_UPDATED, "sel_bench", {**OBJECT, "n": index})
        db.session.commit()


def delivered(endpoint_id: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "succeeded")) or 0


def deliver_until(endpoint_id: str, wanted: int, limit_seconds: float = 600) -> tuple[float, float]:
    """Seconds until `wanted` deliveries succeeded, and the CPU seconds this process (all its threads) spent."""
    started, cpu = time.monotonic(), time.process_time()
    while delivered(endpoint_id) < wanted:
        webhook_delivery.deliver_due()
        if time.monotonic() - started > limit_seconds:
            raise RuntimeError(f"only {delivered(endpoint_id)} of {wanted} delivered in {limit_seconds} s")
    return time.monotonic() - started, time.process_time() - cpu


def latency(endpoint_id: str) -> tuple[int, int]:
    values = sorted(db.session.scalars(select(WebhookAttempt.latency_ms)
                                       .where(WebhookAttempt.endpoint_id == endpoint_id)))
    return values[len(values) // 2], values[int(len(values) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--slow", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    port = free_port()
    sink = start("webhook-receiver", python(str(ROOT / "bench" / "webhook_receiver.py"), str(port), str(args.slow)),
                 Path(tempfile.mkdtemp(prefix="bench-logs-")))
    name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        wait_http(sink, f"http://127.0.0.1:{port}/count")
        app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=url.replace("postgresql://",
                                                                                   "postgresql+psycopg://", 1),
                         REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL, WEBHOOK_CONCURRENCY=args.concurrency)
        with app.app_context():
            upgrade()
            merchant = accounts.create_merchant("Bench shop", "bench@shop.example.com", "bench password 123")
            fast = webhook_endpoints.create(merchant.id, NewEndpoint(f"http://127.0.0.1:{port}/fast", ["*"])).endpoint
            fast_id = fast.id
            record_events(merchant.id, args.events)
            seconds, cpu = deliver_until(fast_id, args.events)
            p50, p99 = latency(fast_id)
            print(f"1. {args.events} deliveries to one endpoint in {seconds:.2f} s: "
                  f"{args.events / seconds:.0f} deliveries/s (attempt latency p50 {p50} ms, p99 {p99} ms); "
                  f"{cpu * 1000 / args.events:.2f} ms of this process's CPU per delivery", flush=True)

            slow = webhook_endpoints.create(merchant.id, NewEndpoint(f"http://127.0.0.1:{port}/slow", ["*"])).endpoint
            slow_id = slow.id
            record_events(merchant.id, args.events)
            with_slow, _cpu = deliver_until(fast_id, 2 * args.events)
            slow_done = delivered(slow_id)
            print(f"2. with a {args.slow:g} s endpoint subscribed too: the fast endpoint's {args.events} deliveries in "
                  f"{with_slow:.2f} s ({args.events / with_slow:.0f}/s); the slow endpoint got {slow_done} meanwhile "
                  f"(at most {app.config['WEBHOOK_ENDPOINT_CONCURRENCY']} in flight)", flush=True)
            counts = requests.get(f"http://127.0.0.1:{port}/count", timeout=5).json()
            print(f"receiver counted {json.dumps(counts)}; {machine()}")
            db.session.remove()
            db.engine.dispose()
    finally:
        sink.stop()
        drop_postgres_database(POSTGRES_ADMIN_URL, name)


if __name__ == "__main__":
    main()
