"""How long `GET /metrics` takes with 100 routes' worth of series from several processes and 10 queues.

    .venv/bin/python bench/metrics_scrape.py [--scrapes 200] [--processes 4] [--routes 100] [--queues 10]

Realistic contents, real parts: a fresh PostgreSQL database (migrated, with open reconciliation mismatches for
the database gauges), Redis holding 10 RQ queues with waiting and failed jobs, and PROMETHEUS_MULTIPROC_DIR
filled by `--processes` separate processes (as gunicorn workers, RQ workers and the scheduler would), each having
counted requests on `--routes` route templates (3 methods x statuses each, with the duration histogram), PSP
calls of every operation and the money flow. The queue gauges come from the admin console's pipeline collector
(webapp.ops.pipeline_metrics, queue length and failed registry per queue, outbox and inbox backlogs), pointed
at those 10 queues. Scrapes go over HTTP to the app served by a threaded server. Reported: the client's
wall time (HTTP round trip included), and the server's wall and CPU time per scrape; on the shared, busy
development machine the CPU time is the figure that says what an unloaded machine would take.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))  # before prometheus
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))

import redis  # noqa: E402
import requests  # noqa: E402
from harness import save  # noqa: E402
from rq import Queue  # noqa: E402
from rq.registry import FailedJobRegistry  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"
OPERATIONS = ("create_checkout_session", "retrieve_checkout_session", "expire_checkout_session",
              "retrieve_charge_funds", "create_refund", "list_refunds", "create_connected_account",
              "retrieve_connected_account", "add_bank_account", "create_transfer", "create_reversal", "create_payout",
              "retrieve_payout")


def count_like_a_process(routes: int, seed: int) -> None:
    """One process's share of the traffic: every family the gateway writes, with many label values."""
    from webapp.ops import metrics

    for index in range(routes):
        route = f"/bench/route{index}/<item_id>"
        method = ("GET", "POST")[index % 2]
        for status in (*("200", "201", "400", "404")[index % 2::2], "500"):  # three statuses a route
            metrics.HTTP_REQUESTS.labels(route, method, status).inc(seed + 1)
        metrics.HTTP_DURATION.labels(route).observe(0.003 * (seed + 1))
    for operation in OPERATIONS:
        for outcome in ("ok", "rejected", "unavailable"):
            metrics.PSP_REQUESTS.labels(operation, outcome).inc()
        metrics.PSP_DURATION.labels(operation).observe(0.05)
    for family, amounts, statuses in (
            (metrics.PAYMENTS, metrics.PAYMENTS_AMOUNT, ("NOT_STARTED", "EXECUTING", "PENDING", "SUCCESS", "FAILED")),
            (metrics.PAYMENT_ORDERS, metrics.PAYMENT_ORDERS_AMOUNT, ("NOT_STARTED", "SUCCESS", "FAILED")),
            (metrics.REFUNDS, metrics.REFUNDS_AMOUNT, ("requested", "pending", "succeeded", "failed")),
            (metrics.PAYOUTS, metrics.PAYOUTS_AMOUNT, ("pending", "in_transit", "paid", "failed", "canceled"))):
        for status in statuses:
            family.labels(status).inc()
            for currency in ("USD", "EUR", "GBP"):
                amounts.labels(status, currency).inc(1234)
    for lag in (0.2, 1.5, 30.0):
        metrics.WEBHOOK_LAG.observe(lag)


def fill_queues(names: list[str]) -> None:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    for name in names:
        queue = Queue(name, connection=connection)
        for _ in range(50):
            queue.enqueue("workers.jobs.relay")
        registry = FailedJobRegistry(queue=queue)
        for job in queue.jobs[:5]:
            registry.add(job, ttl=3600, exc_string="bench")


def plant_mismatches(app) -> None:
    from webapp.dbtypes import utcnow
    from webapp.extensions import db
    from webapp.models import ReconMismatch, ReconRun

    with app.app_context():
        run = ReconRun(day=utcnow().date(), source="psp", status="succeeded", triggered_by="bench")
        db.session.add(run)
        db.session.flush()
        classes = ("missing_in_ledger", "missing_at_psp", "amount_mismatch", "fee_mismatch", "timing")
        for index in range(200):
            db.session.add(ReconMismatch(run_id=run.id, day=run.day, key=f"bench-{index}", movement="charge",
                                         class_name=classes[index % len(classes)], status="open"))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--routes", type=int, default=100)
    parser.add_argument("--queues", type=int, default=10)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from config import load_config
    from webapp import create_app, freeze_long_lived
    from webapp.services import pipeline_reads

    db_name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=url.replace("postgresql://",
                                                                                  "postgresql+psycopg://", 1),
                         REDIS_URL=REDIS_URL, LOG_LEVEL="WARNING")
        with app.app_context():
            upgrade()
        plant_mismatches(app)
        freeze_long_lived()  # as wsgi.py does in every web process
        names = [f"bench-queue-{index}" for index in range(args.queues)]
        fill_queues(names)
        pipeline_reads.QUEUES = tuple(names)  # the console's real collector, reading 10 queues instead of ours
        context = multiprocessing.get_context("spawn")
        writers = [context.Process(target=count_like_a_process, args=(args.routes, seed))
                   for seed in range(args.processes)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        handled: list[tuple[float, float]] = []

        def timed(environ, start_response):
            """The app, timed where it runs: wall time and this thread's CPU time (what an idle machine would
            take; the shared machine's other load only adds waiting)."""
            wall, cpu = time.perf_counter(), time.thread_time()
            body = b"".join(app(environ, start_response))
            handled.append(((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000))
            return [body]

        server = make_server("127.0.0.1", 0, timed, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        target = f"http://127.0.0.1:{server.server_port}/metrics"
        session = requests.Session()
        first = session.get(target, timeout=10)
        assert first.status_code == 200, first.text
        series = sum(1 for line in first.text.splitlines() if line and not line.startswith("#"))
        assert "paysplit_queue_depth" in first.text and "bench/route99" in first.text
        times = []
        handled.clear()
        load_before = os.getloadavg()
        for _ in range(args.scrapes):
            started = time.perf_counter()
            answer = session.get(target, timeout=10)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200
        load_after = os.getloadavg()
        server.shutdown()
    finally:
        drop_postgres_database(POSTGRES_ADMIN_URL, db_name)
    server_wall = sorted(wall for wall, _ in handled)
    server_cpu = sorted(cpu for _, cpu in handled)
    save("metrics_scrape", {
        "processes": args.processes, "routes": args.routes, "queues": args.queues, "series": series,
        "bytes": len(first.content), "scrapes": args.scrapes, "target_ms": 50,
        "load_average_before_after": [round(load_before[0], 1), round(load_after[0], 1)],
        "client_wall_ms": summary(times), "server_wall_ms": summary(server_wall),
        "server_cpu_ms": summary(server_cpu),
    })


def summary(values: list[float]) -> dict:
    values = sorted(values)
    return {"p50": round(statistics.median(values), 1), "p95": round(values[int(len(values) * 0.95) - 1], 1),
            "max": round(values[-1], 1)}


if __name__ == "__main__":
    main()
