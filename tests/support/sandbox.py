"""Start the PSP sandbox for tests and drive it: `start_sandbox`, an SDK client, and helpers for the
sandbox's own controls (clock, faults, paying a session without a browser) and a webhook receiver.

    sandbox = start_sandbox(tmp_path, webhook_url=f"{gateway_url}/webhooks/psp", webhook_secret="whsec_test")
    client = stripe_client(sandbox.url)
    session = client.v1.checkout.sessions.create(params={...})
    pay_session(sandbox.url, session.id, card_number="4000000000009995")   # a decline
    advance_clock(sandbox.url, 2 * 86_400)                                 # funds become available
    sandbox.stop()
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import stripe

from tests.support.processes import Process, free_port, python, start, wait_http

API_KEY = "sk_test_sandbox_tests"
# Short retry waits and a fast clock tick keep tests quick; the defaults are Stripe-like.
TEST_ARGS = ("--webhook-retry-base", "0.2", "--tick", "0.2")


def start_sandbox(
    log_dir: Path,
    *,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    extra_args: Iterable[str] = (),
    env: dict[str, str] | None = None,
    db_path: Path | None = None,
    name: str = "psp_sandbox",
) -> Process:
    """Start `python -m psp_sandbox` on a free port with its own database (or `db_path`, to restart on the
    same state) and wait until it answers; `process.url` is its base URL, `process.extra["db_path"]` its file."""
    port = free_port()
    db = db_path or Path(log_dir) / f"{name}-{port}.db"
    args = python("-m", "psp_sandbox", "serve", "--port", str(port), "--db", str(db), *TEST_ARGS, *extra_args)
    if webhook_url:
        args += ["--webhook-url", webhook_url, "--webhook-secret", webhook_secret or ""]
    process = start(f"{name}-{port}", args, Path(log_dir), env)
    process.url = f"http://127.0.0.1:{port}"
    process.extra["db_path"] = db
    wait_http(process, f"{process.url}/_sandbox/health")
    return process


def stripe_client(url: str, api_key: str = API_KEY, max_network_retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": url}, max_network_retries=max_network_retries)


def _post(url: str, body: dict) -> dict:
    response = requests.post(url, json=body, timeout=30)
    if response.status_code >= 500:
        response.raise_for_status()
    return response.json()


def advance_clock(url: str, seconds: int) -> dict:
    """Move the sandbox clock forward and run everything that fell due (funds, expiries, transfers, payouts)."""
    return _post(f"{url}/_sandbox/clock/advance", {"seconds": seconds})


def sandbox_now(url: str) -> int:
    return requests.get(f"{url}/_sandbox/clock", timeout=10).json()["now"]


def set_faults(url: str, config: dict) -> dict:
    """e.g. {"seed": 1, "api": [{"path_prefix": "/v1/refunds", "error_rate": 1.0, "error_kinds": ["503"]}],
    "webhooks": {"drop_rate": 0.2, "duplicate_rate": 0.1, "delay_rate": 0.3, "max_delay_seconds": 2}}"""
    return _post(f"{url}/_sandbox/faults", config)


def clear_faults(url: str) -> dict:
    return requests.delete(f"{url}/_sandbox/faults", timeout=10).json()


def pay_session(url: str, session_id: str, method: str = "card", **details: str) -> dict:
    """Pay as a buyer would, without a browser. method: card (card_number, expiry, cvc, name,
    three_d_secure=complete|fail|none), wallet or bank_transfer (email; '+fail' in it makes it fail).
    Returns {"status": succeeded|processing|requires_action|declined|invalid|closed, "session": ..., ...}."""
    return _post(f"{url}/_sandbox/checkout/sessions/{session_id}/pay", {"method": method, **details})


def deliveries(url: str, event_id: str | None = None) -> list[dict]:
    params = {"event": event_id} if event_id else {}
    return requests.get(f"{url}/_sandbox/deliveries", params=params, timeout=10).json()["data"]


def wait_deliveries_idle(url: str, timeout: float = 20) -> None:
    """Wait until the sandbox has no webhook delivery queued, in flight or waiting for a retry."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(f"{url}/_sandbox/deliveries/idle", timeout=10).json()["idle"]:
            return
        time.sleep(0.05)
    raise TimeoutError(f"webhook deliveries still busy after {timeout}s")


def checkout_params(**overrides: Any) -> dict:
    """Checkout Session parameters like the gateway's: two line items, templated success URL, metadata."""
    params = {
        "mode": "payment",
        "success_url": "http://127.0.0.1:9/return?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:9/cancel",
        "client_reference_id": "payment_event_1",
        "customer_email": "buyer@example.com",
        "metadata": {"payment_event": "1"},
        "payment_intent_data": {"transfer_group": "event_1", "metadata": {"payment_event": "1"}},
        "line_items": [
            {"price_data": {"currency": "eur", "unit_amount": 1500, "product_data": {"name": "Order for Seller A"}},
             "quantity": 2},
            {"price_data": {"currency": "eur", "unit_amount": 700, "product_data": {"name": "Order for Seller B"}},
             "quantity": 1},
        ],
    }
    params.update(overrides)
    return params


class WebhookReceiver:
    """A local HTTP endpoint that records webhook requests; `statuses` are answered in turn (then 200)."""

    def __init__(self, statuses: Iterable[int] = ()) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append((dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        with self._lock:
            return [json.loads(body) for _, body in self.requests]

    def wait_for(self, predicate: Any, timeout: float = 15) -> list[dict]:
        """Wait until predicate(list of received events) is true; returns the events."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if predicate(events):
                return events
            time.sleep(0.05)
        raise TimeoutError(f"webhooks not as expected after {timeout}s: {[e['type'] for e in self.events()]}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
