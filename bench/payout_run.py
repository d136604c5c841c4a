"""A payout run over many due sellers, end to end through the real system and the sandbox.

    .venv/bin/python bench/payout_run.py [--sellers 1000 10000] [--workers 2]

For each size, on a fresh system (PostgreSQL, Redis, the sandbox, gunicorn, RQ workers, the scheduler):
setup (not timed as the result): the sellers are inserted and onboarded at the sandbox by the gateway's own
`sellers.onboard` jobs (their rate is reported), then every seller is paid through the real pay-in flow —
checkouts of 100 orders created by the API, Pay pressed on the checkout page, paid in the sandbox with the
card whose funds are available at once — until every wallet holds available money.
Timed: `flask payouts run` in a process of its own (reserve: one itemized payout per seller), while the RQ
workers make the transfers and payouts at the sandbox; the clock stops when the last payout has been created
at the PSP. Then `flask ledger verify` over the resulting ledger.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
from harness import machine, running_system, save

from tests.support.sandbox import pay_session  # harness put the project on the path

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ORDERS_PER_CHECKOUT = 100
AVAILABLE_NOW_CARD = "4000000000000077"


def iban(n: int) -> str:
    """A valid German IBAN for account number `n` (bank code 37040044); far from the sandbox's failing ones."""
    bban = f"37040044{2_000_000_000 + n:010d}"
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "DE00")) % 97
    return f"DE{check:02d}{bban}"


def _db(system) -> psycopg.Connection:
    return psycopg.connect(system.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)


def onboard(system, count: int) -> dict:
    """Insert the sellers and the onboarding jobs set-based, then let the workers create the connected accounts."""
    with _db(system) as conn:
        merchant = conn.execute("SELECT id FROM merchants ORDER BY created_at LIMIT 1").fetchone()[0]
        rows = [(f"sel_bench{n:08d}", merchant, f"Bench seller {n}", iban(n)) for n in range(count)]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO seller_accounts (id, merchant_id, display_name, iban, currency, status, created_at, "
                "updated_at, account_state, payouts_enabled, requirements_due, bank_account_status, "
                "bank_account_version, payout_interval, payout_delay_days, minimum_payout_minor, country) "
                "VALUES (%s, %s, %s, %s, 'USD', 'active', now(), now(), 'onboarding', false, '', 'pending', 1, "
                "'daily', 0, 0, 'DE')", rows)
            cur.executemany(
                "INSERT INTO outbox (topic, dedupe_key, payload, status, attempts, available_at, created_at) "
                "VALUES ('sellers.onboard', %s, %s, 'pending', 0, now(), now())",
                [(f"seller-onboard:{r[0]}", json.dumps({"seller": r[0]})) for r in rows])
        started = time.monotonic()
        while conn.execute("SELECT count(*) FROM seller_accounts WHERE id LIKE 'sel_bench%%' "
                           "AND psp_account_id IS NULL").fetchone()[0]:
            time.sleep(0.5)
        seconds = time.monotonic() - started
    return {"sellers": count, "seconds": round(seconds, 1), "per_second": round(count / seconds)}


def fund(system, count: int) -> dict:
    """Pay every seller through the real pay-in flow, with funds available at once."""
    sellers = [f"sel_bench{n:08d}" for n in range(count)]
    key = system.demo["DEMO_API_KEY"]

    def one_checkout(start: int) -> None:
        web = requests.Session()
        body = {"checkout_id": f"bench-{start}", "buyer_info": {"email": "buyer@example.com"},
                "payment_orders": [{"payment_order_id": f"o{n}", "seller_account": sellers[n], "amount": "10.00",
                                    "currency": "USD"} for n in range(start, min(start + ORDERS_PER_CHECKOUT, count))]}
        created = web.post(f"{system.web_url}/v1/payments", json=body, headers={"Authorization": f"Bearer {key}"},
                           timeout=60)
        created.raise_for_status()
        event = created.json()["id"]
        page = web.get(f"{system.web_url}/checkout/{event}", timeout=60).text
        web.post(f"{system.web_url}/checkout/{event}/pay", data={"csrf_token": CSRF.search(page).group(1)},
                 timeout=60).raise_for_status()
        with _db(system) as conn:
            session = None
            while session is None:
                session = conn.execute("SELECT psp_session_id FROM payment_events WHERE id = %s",
                                       (event,)).fetchone()[0]
                time.sleep(0.1 if session is None else 0)
        result = pay_session(system.psp_url, session, card_number=AVAILABLE_NOW_CARD)
        assert result["status"] == "succeeded", result

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one_checkout, range(0, count, ORDERS_PER_CHECKOUT)))
    with _db(system) as conn:
        while conn.execute("SELECT count(*) FROM order_funds WHERE funds = 'available'").fetchone()[0] < count:
            time.sleep(0.5)
    return {"orders": count, "seconds": round(time.monotonic() - started, 1)}


TICK = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        kids = [int(c) for c in children.read_text().split()] if children.exists() else []
        found += kids
        todo += kids
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, and of its children it has waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return sum(int(v) for v in fields[11:15]) / TICK


def cpu_by_process(system, conn: psycopg.Connection) -> dict[str, float]:
    """CPU seconds so far of each part of the system: its processes (with everything they started) and the
    PostgreSQL backends serving its database. On a machine shared with other work, the CPU a payout costs is
    the figure that does not depend on what else runs."""
    usage = {name: sum(_cpu_seconds(pid) for pid in [p.popen.pid, *_descendants(p.popen.pid)])
             for name, p in system.processes.items()}
    database = conn.execute("SELECT current_database()").fetchone()[0]
    backends = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    usage["postgresql"] = sum(_cpu_seconds(pid) for pid in backends)
    return usage


def run_payouts(system, count: int) -> dict:
    with _db(system) as conn:
        cpu_before = cpu_by_process(system, conn)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "payouts", "run"], env={
        **os.environ, **system.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with _db(system) as conn:
        reserved_at = None
        while True:
            done = conn.execute("SELECT count(*) FROM payouts WHERE psp_payout_id IS NOT NULL").fetchone()[0]
            if reserved_at is None and run.poll() is not None:
                reserved_at = time.monotonic()
            if done >= count:
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
        cpu_after = cpu_by_process(system, conn)
        dead = conn.execute("SELECT count(*) FROM outbox WHERE status = 'dead'").fetchone()[0]
    output = run.communicate()[0]
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {name: round(cpu_after[name] - cpu_before.get(name, 0.0), 2) for name in cpu_after}
    cpu["payouts run"] = round(children_after.ru_utime + children_after.ru_stime
                               - children_before.ru_utime - children_before.ru_stime, 2)
    cpu_ms = 1000 * sum(cpu.values()) / count
    reserve_seconds = (reserved_at or time.monotonic()) - started
    return {"payouts": count, "seconds": round(seconds, 2), "payouts_per_second": round(count / seconds),
            "reserve_seconds": round(reserve_seconds, 2), "reserved_per_second": round(count / reserve_seconds),
            "load_average": os.getloadavg()[0], "cpu_seconds": cpu, "cpu_ms_per_payout": round(cpu_ms, 2),
            "payouts_per_second_per_busy_core": round(1000 / cpu_ms),
            "dead_letters": dead, "run_output": output.strip().splitlines()[-3:]}


def verify(system) -> dict:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "verify"],
                            env={**os.environ, **system.env}, capture_output=True, text=True)
    return {"ok": result.returncode == 0, "seconds": round(time.monotonic() - started, 2),
            "summary": result.stdout.strip().splitlines()[-1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sellers", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    results = {"machine": machine(), "workers": args.workers, "runs": []}
    for count in args.sellers:
        with running_system(("--workers", "1", "--threads", "16"), workers=args.workers) as system:
            print(f"{count} sellers: onboarding…", file=sys.stderr, flush=True)
            entry = {"sellers": count, "onboarding": onboard(system, count)}
            print(f"{count} sellers: funding through pay-in…", file=sys.stderr, flush=True)
            entry["funding"] = fund(system, count)
            print(f"{count} sellers: payout run…", file=sys.stderr, flush=True)
            entry["payout_run"] = run_payouts(system, count)
            entry["ledger_verify"] = verify(system)
            results["runs"].append(entry)
            print(json.dumps(entry, indent=2), flush=True)
    save("payout_run", results)


if __name__ == "__main__":
    main()
