"""Load generator for the sandbox benchmark: N threads, each with one keep-alive connection, sending a
fixed number of requests. Run as its own process; prints one JSON line with the counts and the rate.

    python bench/http_load.py --url http://127.0.0.1:12111 --kind sessions --clients 16 --requests 8000
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit

SESSION_FORM = urlencode({
    "mode": "payment", "success_url": "http://127.0.0.1:9/return?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://127.0.0.1:9/cancel", "client_reference_id": "bench", "customer_email": "buyer@example.com",
    "metadata[payment_event]": "1", "payment_intent_data[transfer_group]": "bench",
    "line_items[0][price_data][currency]": "eur", "line_items[0][price_data][unit_amount]": "1500",
    "line_items[0][price_data][product_data][name]": "Order A", "line_items[0][quantity]": "2",
    "line_items[1][price_data][currency]": "eur", "line_items[1][price_data][unit_amount]": "700",
    "line_items[1][price_data][product_data][name]": "Order B", "line_items[1][quantity]": "1",
})
HEADERS = {"Authorization": "Bearer sk_test_bench", "Content-Type": "application/x-www-form-urlencoded"}


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: str, headers: dict) -> dict:
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return json.loads(data)


def _create_session(conn: http.client.HTTPConnection) -> dict:
    return _request(conn, "POST", "/v1/checkout/sessions", SESSION_FORM,
                    {**HEADERS, "Idempotency-Key": str(uuid.uuid4())})


def _pay_session(conn: http.client.HTTPConnection) -> dict:
    session = _create_session(conn)
    return _request(conn, "POST", f"/_sandbox/checkout/sessions/{session['id']}/pay",
                    json.dumps({"method": "card", "card_number": "4242424242424242"}),
                    {"Content-Type": "application/json"})


KINDS = {"sessions": _create_session, "payments": _pay_session}


def run(url: str, kind: str, clients: int, requests: int) -> dict:
    parts = urlsplit(url)
    per_client = requests // clients
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            for _ in range(per_client):
                KINDS[kind](conn)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done = per_client * clients
    return {"kind": kind, "clients": clients, "requests": done, "seconds": round(elapsed, 3),
            "per_second": round(done / elapsed, 1), "errors": errors[:5]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--kind", choices=sorted(KINDS), default="sessions")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=8000)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.kind, args.clients, args.requests)))
