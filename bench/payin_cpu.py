"""CPU and database round trips per `POST /v1/payments`, in-process: without an Idempotency-Key, with a fresh key each,
and the same keyed request sent again (a replay).

    .venv/bin/python bench/payin_cpu.py [--requests 2000] [--rounds 2]

Wall-clock rates mean little on a shared machine; CPU time of the process that serves does. One process serves
through Flask's test client on a fresh PostgreSQL database (and a Redis of its own): `time.process_time` per request,
and the round trips to PostgreSQL per request (statements, BEGIN, COMMIT/ROLLBACK; see RoundTrips). Each kind runs
`--requests` times per round after a warm-up of 200; the kinds alternate within a round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.pq import TransactionStatus

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database, start_redis  # noqa: E402


class RoundTrips:
    """Round trips to PostgreSQL, counted on psycopg's public API (so the statements sent straight on a pooled
    connection by webapp.dbdirect count too): each statement, the BEGIN psycopg sends before the first statement
    of a transaction, and each COMMIT or ROLLBACK of an open transaction."""

    def __init__(self) -> None:
        self.count = 0
        execute, commit, rollback = psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback
        counter = self

        def counted_execute(cursor, *args, **kwargs):
            connection = cursor.connection
            opens = not connection.autocommit and connection.info.transaction_status == TransactionStatus.IDLE
            counter.count += 2 if opens else 1
            return execute(cursor, *args, **kwargs)

        def ending(method):
            def counted(connection):
                if connection.info.transaction_status != TransactionStatus.IDLE:
                    counter.count += 1
                return method(connection)
            return counted

        psycopg.Cursor.execute = counted_execute
        psycopg.Connection.commit, psycopg.Connection.rollback = ending(commit), ending(rollback)

    def take(self) -> int:
        taken, self.count = self.count, 0
        return taken


class Meter:
    """CPU and round trips of one kind of request."""

    def __init__(self, trips: RoundTrips) -> None:
        self.trips = trips
        self.cpu: list[float] = []
        self.counts: list[int] = []

    def __call__(self, send, tag: str, expected: int):
        self.trips.take()
        cpu = time.process_time()
        response = send(tag)
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.counts.append(self.trips.take())
        assert response.status_code == expected, (response.status_code, response.get_data(as_text=True)[:500])
        return response

    def summary(self) -> dict:
        return {"requests": len(self.cpu), "cpu_ms_mean": round(statistics.fmean(self.cpu), 3),
                "cpu_ms_median": round(statistics.median(self.cpu), 3),
                "round_trips_mean": round(statistics.fmean(self.counts), 2), "round_trips": sorted(set(self.counts))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from config import load_config
    from tests.support import payments as pay
    from webapp import create_app
    from webapp.extensions import db

    work = Path(tempfile.mkdtemp(prefix="bench-payin-cpu-"))
    redis, redis_url = start_redis(work, "redis")
    name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        app = create_app(load_config("test"), REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url,
                         SQLALCHEMY_DATABASE_URI=url.replace("postgresql://", "postgresql+psycopg://"),
                         PUBLIC_BASE_URL="http://gateway.example", API_RATE_LIMIT="1000000 per second")
        with app.app_context():
            upgrade()
            _, sellers, key = pay.merchant_with_sellers(2)
            seller_ids = [s.id for s in sellers]
            db.session.remove()
        trips = RoundTrips()
        meters = {kind: Meter(trips) for kind in ("keyless", "keyed", "replay")}
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        run = uuid.uuid4().hex[:8]

        def body(n: str) -> dict:
            return {"checkout_id": f"cpu-{run}-{n}", "buyer_info": {"email": "b@example.com", "name": "B"},
                    "payment_orders": [{"payment_order_id": f"o{i}", "seller_account": seller, "amount": "2.50",
                                        "currency": "USD", "description": f"Item {i}"}
                                       for i, seller in enumerate(seller_ids)]}

        def keyless(n: str):
            return client.post("/v1/payments", json=body(f"n{n}"), headers=headers)

        def keyed(n: str):
            return client.post("/v1/payments", json=body(f"k{n}"), headers={**headers, "Idempotency-Key": f"{run}-{n}"})

        results = []
        for round_ in range(args.rounds):
            for meter in meters.values():
                meter.cpu.clear()
                meter.counts.clear()
            for n in range(200 + args.requests):
                tag = f"{round_}-{n}"
                if n == 200:
                    for meter in meters.values():
                        meter.cpu.clear()
                        meter.counts.clear()
                meters["keyless"](keyless, tag, 201)
                meters["keyed"](keyed, tag, 201)
                meters["replay"](keyed, tag, 201)
            summary = {kind: meter.summary() for kind, meter in meters.items()}
            summary["keyed_over_keyless_cpu"] = round(summary["keyed"]["cpu_ms_mean"]
                                                      / summary["keyless"]["cpu_ms_mean"], 2)
            results.append(summary)
            print(json.dumps(summary), flush=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_postgres_database(POSTGRES_ADMIN_URL, name)
        redis.stop()


if __name__ == "__main__":
    main()
