"""The fault soak: payments of every kind through the real processes while the PSP sandbox injects API errors,
latency and dropped, duplicated and delayed webhooks, and `Chaos` kills workers, Redis and database connections.
Then the faults stop, the sweeper and relay bring everything to rest, and `soak_checks` compares every payment,
refund and payout with the PSP. Used by `bench/soak.py` (10,000 payments) and a short test in `make test`."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

from tests.support.chaos import Chaos, ChaosPlan, start_redis_on
from tests.support.processes import free_port
from tests.support.sandbox import advance_clock
from tests.support.system import System, start_system

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# A sandbox whose funds become available, bank transfers settle and payouts arrive within minutes of its
# clock, so a soak's movements stay on one PSP day (reconciled at the end).
QUICK_PSP = ("--available-delay", "60", "--bank-transfer-delay", "30", "--payout-transit-delay", "10",
             "--payout-arrival-delay", "60")
GOOD_IBANS = ("GB82WEST12345698765432", "FR1420041010050500013M02606")
NO_ACCOUNT_IBAN = "DE62370400440532013001"  # the sandbox fails payouts to it (no_account)
SYSTEM_ENV = {
    "PSP_SYNC_AFTER_SECONDS": "5", "SWEEP_INTERVAL_SECONDS": "3", "PAYOUT_SYNC_AFTER_SECONDS": "10",
    "OUTBOX_LEASE_SECONDS": "5", "OUTBOX_BACKOFF_SECONDS": "0.2", "OUTBOX_MAX_ATTEMPTS": "40",
    "STRIPE_TIMEOUT_SECONDS": "5", "API_RATE_LIMIT": "1000000 per second",
    "PSP_SYNC_MAX_INTERVAL_SECONDS": "60", "PAYOUT_SYNC_MAX_INTERVAL_SECONDS": "60",
}
# What the buyer does, in a repeating mix, and the final status the payment must end in.
KINDS: tuple[tuple[str, dict[str, str], str], ...] = (
    ("card", {"method": "card", "card_number": "4242424242424242"}, "SUCCESS"),
    ("card_refunded", {"method": "card", "card_number": "5555555555554444"}, "SUCCESS"),
    ("3ds", {"method": "card", "card_number": "4000002760003184", "three_d_secure": "complete"}, "SUCCESS"),
    ("declined", {"method": "card", "card_number": "4000000000009995"}, "FAILED"),
    ("card", {"method": "card", "card_number": "4242424242424242"}, "SUCCESS"),
    ("bank_transfer", {"method": "bank_transfer", "email": "buyer@example.com"}, "SUCCESS"),
    ("3ds_failed", {"method": "card", "card_number": "4000002760003184", "three_d_secure": "fail"}, "FAILED"),
    ("bank_transfer_failed", {"method": "bank_transfer", "email": "buyer+fail@example.com"}, "FAILED"),
    ("card_refunded", {"method": "card", "card_number": "4242424242424242"}, "SUCCESS"),
    ("declined", {"method": "card", "card_number": "4000000000000002"}, "FAILED"),
)


@dataclass
class SoakConfig:
    count: int = 10_000
    clients: int = 8
    wave: int = 250
    workers: int = 2
    api_error_rate: float = 0.1
    webhook_drop_rate: float = 0.1
    webhook_duplicate_rate: float = 0.1
    webhook_delay_rate: float = 0.1
    chaos: ChaosPlan = field(default_factory=ChaosPlan)
    converge_timeout: float = 1800


@dataclass
class Payment:
    checkout_id: str  # our id (pay_…), the PSP session's client_reference_id
    reference: str  # the merchant's checkout_id, which the API's paths take
    order_id: str  # the merchant's id of its first payment order
    kind: str
    buyer: dict[str, str]
    expected: str
    refund_requested: bool = False


@dataclass
class SoakRun:
    system: System
    database_url: str
    payments: list[Payment] = field(default_factory=list)
    sellers: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.system.demo['DEMO_API_KEY']}"}

    def query(self, sql: str, *args: Any) -> list[tuple]:
        """A fresh connection per query: the chaos terminates every backend of the database now and then."""
        for attempt in range(20):
            try:
                with psycopg.connect(self.database_url, autocommit=True) as conn:
                    return conn.execute(sql, args).fetchall()
            except psycopg.OperationalError:
                time.sleep(0.1 * (attempt + 1))
        raise RuntimeError(f"the database did not answer: {sql}")


_local = threading.local()


def http() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def retried(call: Callable[[], requests.Response], ok: Callable[[requests.Response], bool],
            what: str, timeout: float = 180) -> requests.Response:
    """What a well-behaved client does: retry a failed request (same Idempotency-Key) until it is answered."""
    deadline = time.monotonic() + timeout
    last: str = ""
    while time.monotonic() < deadline:
        try:
            response = call()
            if ok(response):
                return response
            last = f"{response.status_code} {response.text[:300]}"
        except requests.RequestException as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise RuntimeError(f"{what}: no answer within {timeout}s (last: {last})")


@contextmanager
def soak_system(config: SoakConfig, work: Path, admin_url: str, database: str, database_url: str):
    """Redis on a port of its own (so it can be restarted there), then the whole system on it."""
    port = free_port()
    redis_process = start_redis_on(port, work / "logs", 0)
    system = start_system(work / "instance", database_url, f"redis://127.0.0.1:{port}/0", work / "logs",
                          SYSTEM_ENV, config.workers, ("--workers", "2", "--threads", "16"), QUICK_PSP)
    chaos = Chaos(system, redis_process, port, admin_url, database, work / "logs", config.chaos)
    try:
        yield system, chaos
    finally:
        system.stop()
        chaos.redis.stop()


def add_sellers(run: SoakRun) -> None:
    """Two more sellers with good IBANs and one whose payouts the bank refuses, beside the demo's two."""
    run.sellers = run.system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
    base = run.system.web_url
    for n, iban in enumerate((*GOOD_IBANS, NO_ACCOUNT_IBAN)):
        body = {"display_name": f"Soak seller {n}", "currency": "USD", "iban": iban}
        created = retried(lambda body=body, n=n: http().post(
            f"{base}/v1/seller_accounts", json=body, headers={**run.api, "Idempotency-Key": f"soak-seller-{n}"},
            timeout=30), lambda r: r.status_code in (200, 201), "create a seller")
        run.sellers.append(created.json()["id"])


def payment_body(run: SoakRun, n: int) -> dict:
    first, second = run.sellers[n % len(run.sellers)], run.sellers[(n + 1) % len(run.sellers)]
    checkout_id = f"soak-{n}"
    return {"checkout_id": checkout_id, "buyer_info": {"email": "buyer@example.com"},
            "payment_orders": [
                {"payment_order_id": f"{checkout_id}-a", "seller_account": first,
                 "amount": f"{10 + n % 40}.{n % 100:02d}", "currency": "USD"},
                {"payment_order_id": f"{checkout_id}-b", "seller_account": second, "amount": "4.00",
                 "currency": "USD"}]}


def create_and_press_pay(run: SoakRun, n: int) -> Payment:
    base = run.system.web_url
    created = retried(lambda: http().post(f"{base}/v1/payments", json=payment_body(run, n),
                                          headers={**run.api, "Idempotency-Key": f"soak-pay-{n}"}, timeout=30),
                      lambda r: r.status_code in (200, 201), f"create payment {n}")
    checkout_id = created.json()["id"]

    def press() -> requests.Response:
        page = http().get(f"{base}/checkout/{checkout_id}", timeout=30)
        found = CSRF.search(page.text) if page.status_code == 200 else None
        if found is None:
            return page
        return http().post(f"{base}/checkout/{checkout_id}/pay", data={"csrf_token": found.group(1)},
                           allow_redirects=False, timeout=30)

    retried(press, lambda r: r.status_code in (200, 302, 303), f"press Pay on {checkout_id}")
    kind, buyer, expected = KINDS[n % len(KINDS)]
    return Payment(checkout_id, f"soak-{n}", f"soak-{n}-a", kind, buyer, expected)


def pay_at_psp(run: SoakRun, payment: Payment, session_id: str) -> None:
    url = f"{run.system.psp_url}/_sandbox/checkout/sessions/{session_id}/pay"
    retried(lambda: http().post(url, json=payment.buyer, timeout=30), lambda r: r.status_code < 500,
            f"pay {payment.checkout_id}")


def request_refund(run: SoakRun, payment: Payment) -> None:
    url = f"{run.system.web_url}/v1/payments/{payment.reference}/refunds"
    body = {"payment_order_id": payment.order_id, "amount": "3.00"}
    retried(lambda: http().post(url, json=body, headers={**run.api, "Idempotency-Key": f"refund-{payment.checkout_id}"},
                                timeout=30), lambda r: r.status_code in (200, 201), f"refund {payment.checkout_id}")
    payment.refund_requested = True
    run.counts["refunds_requested"] += 1


def sessions_of(run: SoakRun, checkout_ids: list[str], timeout: float = 600) -> dict[str, str]:
    """Wait until the executor registered each checkout with the PSP; their session ids."""
    deadline, found = time.monotonic() + timeout, {}
    while len(found) < len(checkout_ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(checkout_ids) - len(found)} checkouts never got a PSP session")
        found.update(run.query("SELECT id, psp_session_id FROM payment_events WHERE id = ANY(%s) AND "
                               "psp_session_id IS NOT NULL", checkout_ids))
        time.sleep(0.5)
    return found


def statuses(run: SoakRun, checkout_ids: list[str]) -> dict[str, str]:
    return dict(run.query("SELECT id, status FROM payment_events WHERE id = ANY(%s)", checkout_ids))


def one_wave(run: SoakRun, pool: ThreadPoolExecutor, numbers: range) -> None:
    wave = list(pool.map(lambda n: create_and_press_pay(run, n), numbers))
    run.payments.extend(wave)
    sessions = sessions_of(run, [p.checkout_id for p in wave])
    list(pool.map(lambda p: pay_at_psp(run, p, sessions[p.checkout_id]), wave))
    advance_clock(run.system.psp_url, 120)  # bank transfers settle, funds become available
    refund_due(run, pool, wait=20)
    pay_out(run, f"wave{numbers.start}")


def refund_due(run: SoakRun, pool: ThreadPoolExecutor, wait: float) -> None:
    """Refund part of every paid payment meant for a refund (waiting up to `wait` s for them to be paid)."""
    deadline = time.monotonic() + wait
    while True:
        wanted = [p for p in run.payments if p.kind == "card_refunded" and not p.refund_requested]
        paid = statuses(run, [p.checkout_id for p in wanted])
        ready = [p for p in wanted if paid.get(p.checkout_id) == "SUCCESS"]
        list(pool.map(lambda p: request_refund(run, p), ready))
        if len(ready) == len(wanted) or time.monotonic() > deadline:
            return
        time.sleep(1)


def pay_out(run: SoakRun, label: str) -> None:
    """`POST /v1/payouts` for every seller: a 400 (nothing available yet, bank account errored…) is an answer."""
    for seller in run.sellers:
        response = retried(lambda seller=seller: http().post(
            f"{run.system.web_url}/v1/payouts", json={"seller_account": seller}, timeout=30,
            headers={**run.api, "Idempotency-Key": f"soak-payout-{label}-{seller}"}),
            lambda r: r.status_code < 500, f"pay out {seller}")
        run.counts["payouts_requested" if response.status_code in (200, 201) else "payouts_refused_400"] += 1
