"""Reconciliation of one day of 1,000,000 settlement rows against a ledger holding their counterparts (PostgreSQL).

    .venv/bin/python bench/reconcile.py [--rows 1000000] [--differences 500]

Setup (not timed): a fresh database with `--rows` captured checkouts, each with its PSP charge, its capture entry
and its PSP-fee entry (generated set-based in SQL, the rows the services write), and the day's settlement report as
Stripe writes it (CSV, major units), with `--differences` fees changed in it.

Timed, each in a process of its own (wall time and peak RSS of that process):
1. ours  — `flask reconcile run --date … --file report.csv --json`: the whole run (import, staging, matching,
           storing the findings);
2. floor — the plain join of the same two inputs: our side exported from PostgreSQL (COPY of the same aggregate
           query the run stages) and joined with the CSV in DuckDB, counting the rows that differ.

Prints and saves bench/results/reconcile.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))

import psycopg  # noqa: E402
from harness import machine, save  # noqa: E402

from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
OURS_EXPORT = """
COPY (SELECT c.id AS source_id, c.currency, cap.amount, fee.amount AS fee
      FROM psp_charges c
      JOIN (SELECT je.payment_event_id AS owner, SUM(p.amount) AS amount FROM journal_entries je
            JOIN postings p ON p.entry_id = je.id WHERE je.kind = 'capture' AND p.amount > 0
            GROUP BY je.payment_event_id) cap ON cap.owner = c.payment_event_id
      LEFT JOIN (SELECT je.payment_event_id AS owner, SUM(p.amount) AS amount FROM journal_entries je
            JOIN postings p ON p.entry_id = je.id WHERE je.kind = 'psp_fee' AND p.amount > 0
            GROUP BY je.payment_event_id) fee ON fee.owner = c.payment_event_id) TO STDOUT WITH CSV HEADER
"""

GENERATE = """
INSERT INTO payment_events (id, merchant_id, checkout_id, request_hash, currency, amount_total, status,
                            buyer_email_enc, attempt, psp_session_id, created_at, updated_at)
  SELECT 'pay_' || n, 'mer_bench', 'chk_' || n, '-', 'USD', 500 + (n * 7919) % 50000, 'SUCCESS', '-', 1,
         'cs_' || n, now(), now() FROM generate_series(1::bigint, :rows) n;
INSERT INTO psp_charges (id, payment_event_id, payment_intent_id, balance_transaction_id, currency, amount, fee, net,
                         available_on, funds, created_at)
  SELECT 'ch_' || n, 'pay_' || n, 'pi_' || n, 'txn_' || n, 'USD', 500 + (n * 7919) % 50000,
         30 + (500 + (n * 7919) % 50000) * 29 / 1000, 0, 0, 'pending', now() FROM generate_series(1::bigint, :rows) n;
INSERT INTO ledger_accounts (id, kind, currency, seller_account_id, sign, balance, created_at) VALUES
  ('platform:psp_pending:USD', 'psp_pending', 'USD', NULL, 1, 0, now()),
  ('platform:psp_fees:USD', 'psp_fees', 'USD', NULL, 1, 0, now()),
  ('seller:sel_bench:pending:USD', 'wallet_pending', 'USD', 'sel_bench', -1, 0, now());
INSERT INTO journal_entries (id, key, kind, currency, memo, payment_event_id, created_at)
  SELECT n, 'capture:po_' || n, 'capture', 'USD', '', 'pay_' || n, now() FROM generate_series(1::bigint, :rows) n;
INSERT INTO journal_entries (id, key, kind, currency, memo, payment_event_id, created_at)
  SELECT :rows + n, 'psp_fee:ch_' || n, 'psp_fee', 'USD', '', 'pay_' || n, now()
  FROM generate_series(1::bigint, :rows) n;
INSERT INTO postings (entry_id, account_id, amount, currency, created_at)
  SELECT n, 'platform:psp_pending:USD', 500 + (n * 7919) % 50000, 'USD', now() FROM generate_series(1::bigint, :rows) n
  UNION ALL SELECT n, 'seller:sel_bench:pending:USD', -(500 + (n * 7919) % 50000), 'USD', now()
  FROM generate_series(1::bigint, :rows) n
  UNION ALL SELECT :rows + n, 'platform:psp_fees:USD', 30 + (500 + (n * 7919) % 50000) * 29 / 1000, 'USD', now()
  FROM generate_series(1::bigint, :rows) n
  UNION ALL SELECT :rows + n, 'platform:psp_pending:USD', -(30 + (500 + (n * 7919) % 50000) * 29 / 1000), 'USD', now()
  FROM generate_series(1::bigint, :rows) n;
SELECT setval(pg_get_serial_sequence('journal_entries', 'id'), 2 * :rows + 1);
ANALYZE;
"""

FLOOR = """
import sys, time, duckdb
started = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute("SET enable_progress_bar = false")
found = con.execute('''
  SELECT count(*) FILTER (WHERE o.source_id IS NULL OR o.amount <> CAST(r.gross AS DECIMAL(18,2)) * 100
                          OR o.fee <> CAST(r.fee AS DECIMAL(18,2)) * 100), count(*)
  FROM read_csv(?, header=true, all_varchar=true) r
  LEFT JOIN read_csv(?, header=true) o ON o.source_id = r.source_id''', [sys.argv[1], sys.argv[2]]).fetchone()
print(found[0], found[1], round(time.perf_counter() - started, 2))
"""


# Runs a module or a script and, at exit, reports the process's own peak RSS (VmHWM of its memory after exec: the
# rusage maximum would include the benchmark's own pages copied at fork).
PEAK = """
import atexit, runpy, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KB " + line.split()[1] + "\\n")
atexit.register(peak)
kind, target, *rest = sys.argv[1:]
sys.argv = [target, *rest]
try:
    runpy.run_module(target, run_name="__main__") if kind == "-m" else exec(compile(target, "<floor>", "exec"))
except SystemExit as stop:
    sys.stderr.flush()
    raise
"""


def _measure(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of one child process, and its output."""
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", PEAK, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{args[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return seconds, peak / 1024, done.stdout


def _report(path: Path, rows: int, differences: int, day: str) -> int:
    rng = random.Random(10)
    changed = set(rng.sample(range(1, rows + 1), differences))
    start = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())
    header = ["balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
              "reporting_category", "source_id", "description", "payment_intent_id",
              "payment_metadata[payment_event_id]"]
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for n in range(1, rows + 1):
            amount = 500 + (n * 7919) % 50000
            fee = 30 + amount * 29 // 1000 + (1 if n in changed else 0)
            created = datetime.fromtimestamp(start + n * 86_000 // rows, UTC).strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow([f"txn_{n}", created, created, "usd", f"{amount // 100}.{amount % 100:02d}",
                             f"{fee // 100}.{fee % 100:02d}", f"{(amount - fee) // 100}.{(amount - fee) % 100:02d}",
                             "charge", f"ch_{n}", "", f"pi_{n}", f"pay_{n}"])
    return len(changed)


def _merchant(url: str) -> None:
    """The merchant and seller the generated checkouts belong to, through the models (their defaults)."""
    from config import load_config
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Merchant, SellerAccount

    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=url, REDIS_URL="redis://127.0.0.1:6379/7")
    with app.app_context():
        merchant = Merchant(id="mer_bench", name="Bench")
        db.session.add(merchant)
        db.session.add(SellerAccount(id="sel_bench", merchant=merchant, display_name="Seller",
                                     iban="DE89370400440532013000", currency="USD"))
        db.session.commit()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--differences", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database and files (prints where)")
    options = parser.parse_args()
    name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    work = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    sqlalchemy_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    env = {"DATABASE_URL": sqlalchemy_url, "REDIS_URL": "redis://127.0.0.1:6379/7", "APP_ENV": "development",
           "INSTANCE_PATH": str(work)}
    try:
        subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"], check=True, cwd=ROOT,
                       env={**os.environ, **env}, capture_output=True)
        day = datetime.now(UTC).date().isoformat()
        started = time.perf_counter()
        _merchant(sqlalchemy_url)
        with psycopg.connect(url, autocommit=True) as connection:
            for statement in GENERATE.replace(":rows", str(options.rows)).split(";\n"):
                if statement.strip():
                    connection.execute(statement)
            ours_csv = work / "ours.csv"
            with ours_csv.open("wb") as out, connection.cursor().copy(OURS_EXPORT) as copy:
                for block in copy:
                    out.write(block)
        report = work / "report.csv"
        planted = _report(report, options.rows, options.differences, day)
        setup = time.perf_counter() - started
        print(f"setup {setup:.0f} s: {options.rows:,} charges booked, report of {report.stat().st_size >> 20} MB",
              file=sys.stderr)

        seconds, peak, output = _measure(["-m", "flask", "--app", "wsgi", "reconcile", "run", "--date", day,
                                          "--file", str(report), "--json"], env)
        result = json.loads(output)
        print(f"ours: {seconds:.1f} s, peak RSS {peak:.0f} MB", file=sys.stderr)
        assert result["rows"] == options.rows and len(result["mismatches"]) == planted, (result["rows"], planted)

        export_started = time.perf_counter()
        with psycopg.connect(url) as connection, (work / "ours2.csv").open("wb") as out, \
                connection.cursor().copy(OURS_EXPORT) as copy:
            for block in copy:
                out.write(block)
        export = time.perf_counter() - export_started
        floor_seconds, floor_peak, floor_output = _measure(["-c", FLOOR, str(report), str(work / "ours2.csv")])
        differing, joined, join_only = floor_output.strip().splitlines()[-1].split()
        assert int(differing) == planted and int(joined) == options.rows
        figures = {
            "machine": machine(), "rows": options.rows, "differences": planted,
            "ours": {"seconds": round(seconds, 2), "peak_rss_mb": round(peak), "matched": result["matched"]},
            "floor": {"export_seconds": round(export, 2), "duckdb_seconds": float(join_only),
                      "process_seconds": round(floor_seconds, 2), "seconds": round(export + floor_seconds, 2),
                      "peak_rss_mb": round(floor_peak)},
        }
        figures["ratio"] = round(seconds / figures["floor"]["seconds"], 2)
        print(json.dumps(figures, indent=2))
        save("reconcile", figures)
    finally:
        if options.keep:
            print(f"kept: {sqlalchemy_url} {work}", file=sys.stderr)
        else:
            drop_postgres_database(POSTGRES_ADMIN_URL, name)


if __name__ == "__main__":
    main()
