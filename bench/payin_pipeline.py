"""The whole pay-in pipeline at volume: N checkouts created through the API, Pay pressed on each
checkout page (the executor registers sessions with the PSP), each paid with the sandbox's test helper,
webhooks received, inboxed and applied by the RQ workers.

    .venv/bin/python bench/payin_pipeline.py [--count 10000] [--clients 16] [--workers 2]

Reports the rate of each phase (`--rate` paces the payments to measure latency at a sustained load), the latency
from webhook receipt (the inbox row's `received_at`) to the committed status, seen as the "paid" message the workers
publish after their commit, and the CPU each process (the sandbox, the web server, the workers, PostgreSQL, this
load generator) spent per checkout from the first payment to the last one applied: on two cores, 2,000 ms of CPU a
second is all there is.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import psycopg
import redis
import requests
from harness import cpu_by_process, machine, running_system, save

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def listen_for_paid(redis_url: str, ready, results) -> None:
    """In a process of its own (so the load threads cannot delay it): when each "paid" message arrives."""
    pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("checkout:*")
    ready.set()
    paid_at: dict[str, float] = {}
    for message in pubsub.listen():
        data = json.loads(message["data"])
        if data.get("type") == "stop":
            break
        if data.get("state") == "paid":
            paid_at.setdefault(data["checkout"], time.time())
    results.put(paid_at)


def _local() -> requests.Session:
    state = threading.local()
    if not hasattr(state, "session"):
        state.session = requests.Session()
    return state.session


def phase(name: str, items: list, work, clients: int, rate: float | None = None) -> dict:
    """Run `work` over `items` from `clients` threads, at most `rate` items per second when given."""
    started = time.monotonic()
    sessions: dict[int, requests.Session] = {}
    slot = iter(range(len(items)))
    lock = threading.Lock()

    def run(item):
        if rate:
            with lock:
                due = started + next(slot) / rate
            time.sleep(max(0.0, due - time.monotonic()))
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        return work(session, item)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(run, items))
    elapsed = time.monotonic() - started
    print(f"{name}: {len(items)} in {elapsed:.1f}s = {len(items) / elapsed:.0f}/s", flush=True)
    return {"count": len(items), "seconds": round(elapsed, 2), "per_second": round(len(items) / elapsed, 1),
            "results": results}


def wait_for(conn: psycopg.Connection, sql: str, target: int, timeout: float = 900) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if conn.execute(sql).fetchone()[0] >= target:
            return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(sql)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--web", default="--workers 2 --threads 4")
    parser.add_argument("--rate", type=float, help="pay at most this many checkouts per second (default: flat out)")
    args = parser.parse_args()
    with running_system(tuple(args.web.split()), workers=args.workers) as system:
        key, sellers = system.demo["DEMO_API_KEY"], system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
        base, psp = system.web_url, system.psp_url
        conn = psycopg.connect(system.env["DATABASE_URL"], autocommit=True)

        def create(session: requests.Session, n: int) -> str:
            body = {"checkout_id": f"pipe-{n}", "buyer_info": {"email": "buyer@example.com"},
                    "payment_orders": [{"payment_order_id": f"pipe-{n}-a", "seller_account": sellers[0],
                                        "amount": "3.15", "currency": "USD"},
                                       {"payment_order_id": f"pipe-{n}-b", "seller_account": sellers[1],
                                        "amount": "2.00", "currency": "USD"}]}
            response = session.post(f"{base}/v1/payments", json=body, headers={"Authorization": f"Bearer {key}"})
            response.raise_for_status()
            return response.json()["id"]

        def press_pay(session: requests.Session, checkout: str) -> None:
            page = session.get(f"{base}/checkout/{checkout}")
            token = CSRF.search(page.text).group(1)
            session.post(f"{base}/checkout/{checkout}/pay", data={"csrf_token": token}, allow_redirects=False)

        created = phase("create", list(range(args.count)), create, args.clients)
        ids = created.pop("results")
        started = time.monotonic()
        pressed = phase("press Pay", ids, press_pay, args.clients)
        pressed.pop("results")
        registered_in = wait_for(conn, "SELECT count(*) FROM payment_events WHERE status = 'EXECUTING'", args.count)
        register_rate = args.count / registered_in if registered_in else float("inf")
        print(f"registered with the PSP: all {args.count} {time.monotonic() - started:.1f}s after the first Pay")
        sessions = dict(conn.execute("SELECT id, psp_session_id FROM payment_events").fetchall())

        ready, results = multiprocessing.Event(), multiprocessing.Queue()
        listener = multiprocessing.Process(target=listen_for_paid, args=(system.env["REDIS_URL"], ready, results),
                                           daemon=True)
        listener.start()
        ready.wait()

        def pay(session: requests.Session, checkout: str) -> None:
            response = session.post(f"{psp}/_sandbox/checkout/sessions/{sessions[checkout]}/pay",
                                    json={"method": "card", "card_number": "4242424242424242"})
            response.raise_for_status()

        pay_started, cpu_before = time.monotonic(), cpu_by_process(system)
        paid = phase("pay at the PSP", ids, pay, args.clients, args.rate)
        paid.pop("results")
        wait_for(conn, "SELECT count(*) FROM payment_events WHERE status = 'SUCCESS'", args.count)
        succeeded_in = time.monotonic() - pay_started
        cpu_after = cpu_by_process(system)
        # Where the two cores went while the payments were paid and applied: CPU per checkout, by process.
        cpu_per_checkout = {name: round((cpu_after[name] - cpu_before[name]) * 1000 / args.count, 2)
                            for name in cpu_after}
        cpu_per_checkout["all"] = round(sum(cpu_per_checkout.values()), 2)
        time.sleep(1)
        redis.Redis.from_url(system.env["REDIS_URL"]).publish("checkout:stop", json.dumps({"type": "stop"}))
        paid_at = results.get(timeout=60)
        listener.join(10)
        received = dict(conn.execute(
            "SELECT s.payment_event_id, e.received_at FROM psp_events e JOIN psp_sessions s ON s.id = e.object_id"
            " WHERE e.type = 'checkout.session.completed'").fetchall())
        series = sorted((received[c].timestamp(), (paid_at[c] - received[c].timestamp()) * 1000)
                        for c in ids if c in paid_at and c in received)
        latencies = sorted(latency for _, latency in series)
        conn.close()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [max(latencies)] * 99
    result = {
        "machine": machine(), "count": args.count, "clients": args.clients, "rq_workers": args.workers,
        "gunicorn": args.web, "pay_rate_limit": args.rate, "create": created, "press_pay": pressed,
        "register_rate_per_second": round(register_rate, 1),
        "pay_phase": paid, "pay_to_all_success_seconds": round(succeeded_in, 1),
        "checkouts_per_second_paid_to_success": round(args.count / succeeded_in, 1),
        "pay_phase_cpu_ms_per_checkout": cpu_per_checkout,
        "webhook_to_committed_ms": {"measured": len(latencies), "p50": round(quantiles[49], 1),
                                    "p99": round(quantiles[98], 1), "max": round(latencies[-1], 1)},
        "measured_at": datetime.now().isoformat(timespec="seconds"),
    }
    save("payin_pipeline", result)
    save("payin_pipeline_series", {"received_at_and_latency_ms": series})


if __name__ == "__main__":
    main()
