"""Benchmark of report runs over a million balance transactions (figures go to docs/performance.md).

1. Seeding (not what is measured): the sandbox's SQLite file gets N balance transactions inserted directly
   with one `executemany` (charges with their charge objects, refunds, transfers, in the sandbox's own
   JSON shape), before the sandbox starts. Going through the API would take an hour and measure the API.
2. Measured, end to end through the official SDK: `report_runs.create`, polling until `succeeded`, and the
   download of the CSV from the files host, streamed to disk. Once with the default columns, once with
   columns that need the joined charge (`charge_id`, `customer_email`, `card_brand`, `payment_metadata[…]`).
   The sandbox's peak RSS (VmHWM) is read from /proc after the runs.

    .venv/bin/python bench/sandbox_reports.py [--transactions 1000000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import requests
import stripe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sandbox_bench import machine, start_sandbox  # noqa: E402
from psp_sandbox.ids import PLATFORM_ACCOUNT  # noqa: E402
from psp_sandbox.store import SCHEMA  # noqa: E402

KEY = "sk_test_bench"
START = 1_790_000_000  # 2026-09-21: the seeded month starts here (sandbox clock = real time, later)
CATEGORIES = (("charge", "charge"), ("refund", "refund"), ("transfer", "transfer"))


def seed(db: Path, count: int) -> float:
    began = time.monotonic()
    conn = sqlite3.connect(db)
    conn.executescript(SCHEMA)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")

    def objects():
        for n in range(count):
            created = START + n  # one a second: 11.6 days of activity
            kind, category = CATEGORIES[0] if n % 10 < 8 else CATEGORIES[1] if n % 10 == 8 else CATEGORIES[2]
            source = f"{'ch' if kind == 'charge' else 're' if kind == 'refund' else 'tr'}_bench{n:09d}"
            amount = 1000 + n % 5000 if kind == "charge" else -(500 + n % 500)
            fee = round(amount * 0.029) + 30 if kind == "charge" else 0
            txn = {"id": f"txn_bench{n:09d}", "object": "balance_transaction", "amount": amount,
                   "available_on": created + 172_800, "created": created, "currency": "eur", "description": None,
                   "exchange_rate": None, "fee": fee, "fee_details": [], "net": amount - fee,
                   "reporting_category": category, "source": source, "status": "available", "type": kind}
            yield (txn["id"], "balance_transaction", PLATFORM_ACCOUNT, created, json.dumps(txn), "{}")
            if kind == "charge":
                charge = {"id": source, "object": "charge", "amount": amount, "created": created,
                          "currency": "eur", "payment_intent": f"pi_bench{n:09d}", "metadata": {"order": str(n)},
                          "billing_details": {"email": f"buyer{n}@example.com", "name": "Buyer"},
                          "payment_method_details": {"type": "card", "card": {"brand": "visa", "funding": "credit",
                                                                              "country": "DE"}}}
                yield (source, "charge", PLATFORM_ACCOUNT, created, json.dumps(charge), "{}")

    with conn:
        conn.executemany("INSERT INTO objects (id, type, account, created, data, private) VALUES (?, ?, ?, ?, ?, ?)",
                         objects())
    conn.close()
    return time.monotonic() - began


def run_report(client: stripe.StripeClient, workdir: Path, columns: list[str] | None) -> dict:
    parameters: dict = {"interval_start": START, "interval_end": START + 30 * 86_400}
    if columns:
        parameters["columns"] = columns
    began = time.monotonic()
    run = client.v1.reporting.report_runs.create(params={"report_type": "balance_change_from_activity.itemized.3",
                                                         "parameters": parameters})
    created = time.monotonic() - began
    while run.status == "pending":
        time.sleep(0.2)
        run = client.v1.reporting.report_runs.retrieve(run.id)
    produced = time.monotonic() - began
    target = workdir / f"{run.id}.csv"
    rows = -1
    with requests.get(run.result.url, auth=(KEY, ""), stream=True, timeout=600) as answer, target.open("wb") as out:
        for chunk in answer.iter_content(1 << 20):
            rows += chunk.count(b"\n")
            out.write(chunk)
    return {"status": run.status, "create_answer_s": round(created, 3), "succeeded_after_s": round(produced, 1),
            "downloaded_after_s": round(time.monotonic() - began, 1), "rows": rows,
            "csv_mb": round(target.stat().st_size / 1e6, 1)}


def peak_rss_mb(pid: int) -> dict[int, float]:
    """Peak RSS (VmHWM) of each process in the tree: gunicorn's master and the worker that runs the app and
    its report thread."""
    peaks: dict[int, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peaks[pid] = round(int(line.split()[1]) / 1024, 1)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            peaks.update(peak_rss_mb(int(child)))
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = workdir / "reports.db"
        seeded = seed(db, args.transactions)
        print(f"seeded {args.transactions} balance transactions in {seeded:.1f} s", flush=True)
        process, url = start_sandbox(db)
        try:
            client = stripe.StripeClient(KEY, base_addresses={"api": url, "files": url})
            started = peak_rss_mb(process.pid)
            results = {"machine": machine(), "transactions": args.transactions, "seed_s": round(seeded, 1),
                       "peak_rss_after_start_mb": {"master": started.pop(process.pid), "worker": max(started.values())}}
            results["default_columns"] = run_report(client, workdir, None)
            print(results["default_columns"], flush=True)
            results["joined_columns"] = run_report(client, workdir, [
                "balance_transaction_id", "created_utc", "currency", "gross", "fee", "net", "reporting_category",
                "source_id", "charge_id", "payment_intent_id", "customer_email", "card_brand",
                "payment_metadata[order]"])
            print(results["joined_columns"], flush=True)
            peaks = peak_rss_mb(process.pid)
            results["peak_rss_after_runs_mb"] = {"master": peaks.pop(process.pid), "worker": max(peaks.values())}
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "sandbox_reports.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
