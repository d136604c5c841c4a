"""Posting throughput on PostgreSQL: journal entries per second for batches of payment results.

    .venv/bin/python bench/ledger_posting.py [--orders 60000] [--batch 500] [--sellers 200] [--checkouts 3000]

Three levels, each on a fresh database, each batch one transaction (its commit applies the balances):

1. engine   — `ledger.post_many()` of capture entries (3 postings each), `--batch` entries per transaction;
2. captures — `funds.record_capture()` for paid checkouts of two orders (what `checkout.apply_outcome()` runs
              when a checkout reaches SUCCESS: entries, order splits, flags, the PSP-fee outbox row),
              `--batch` / 2 checkouts per transaction;
3. inbox    — the whole path of a payment result: `checkout.session.completed` events stored in the inbox and
              applied by `inbox.drain()` (500 per transaction, a savepoint and a checkout lock each).

Prints and saves bench/results/ledger_posting.json.
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

from harness import machine, save  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from config import load_config  # noqa: E402
from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.dbtypes import new_id, utcnow  # noqa: E402
from webapp.domain import ledger as rules  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import LedgerEntry, Merchant, PaymentEvent, SellerAccount  # noqa: E402
from webapp.psp import read_notice  # noqa: E402
from webapp.services import crypto, funds, inbox, ledger, verification  # noqa: E402
from webapp.services.ledger import Links  # noqa: E402

LEDGER_CHECKS = {"balanced_entries", "zero_sum", "posting_currency", "cached_balances", "no_negative_wallet",
                 "posted_once"}


def _app(url: str):
    from flask_migrate import upgrade

    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=url,
                     REDIS_URL="redis://127.0.0.1:6379/7")
    with app.app_context():
        upgrade()
    return app


def _sellers(count: int) -> tuple[str, list[str]]:
    merchant = Merchant(name=f"Bench {new_id('b')}")
    db.session.add(merchant)
    sellers = [SellerAccount(merchant=merchant, display_name=f"Seller {i}", iban=f"DE{i:020d}", currency="USD")
               for i in range(count)]
    db.session.add_all(sellers)
    db.session.commit()
    return merchant.id, [s.id for s in sellers]


def bench_engine(orders: int, batch: int, sellers: list[str]) -> dict:
    entries = [rules.capture(f"po_{n}", sellers[n % len(sellers)], "USD", 1000 + n % 5000, 30 + n % 50)
               for n in range(orders)]
    started = time.perf_counter()
    for start in range(0, orders, batch):
        ledger.post_many([(e, Links()) for e in entries[start:start + batch]])
        db.session.commit()
    seconds = time.perf_counter() - started
    return {"entries": orders, "postings": orders * 3, "seconds": round(seconds, 2),
            "entries_per_second": round(orders / seconds)}


def _checkouts(merchant_id: str, sellers: list[str], count: int, status: str) -> list[str]:
    """Checkouts of two orders each, created set-based (the benchmark measures posting, not creating)."""
    email = crypto.encrypt("buyer@example.com")
    now = utcnow()
    ids = [new_id("pay", 24) for _ in range(count)]
    db.session.execute(text(
        "INSERT INTO payment_events (id, merchant_id, checkout_id, request_hash, currency, amount_total, status, "
        "buyer_email_enc, attempt, psp_session_id, created_at, updated_at) "
        "VALUES (:id, :merchant, :checkout, '-', 'USD', 3000, :status, :email, 1, :session, :now, :now)"),
        [{"id": i, "checkout": i, "session": f"cs_{i}", "merchant": merchant_id, "status": status, "email": email,
          "now": now} for i in ids])
    db.session.execute(text(
        "INSERT INTO payment_orders (id, payment_event_id, payment_order_id, position, seller_account_id, amount, "
        "currency, status, ledger_updated, wallet_updated, created_at, updated_at) "
        "VALUES (:id, :event, :ref, :position, :seller, :amount, 'USD', :status, false, false, :now, :now)"),
        [{"id": f"po_{i}_{p}", "event": i, "ref": f"o{p}", "position": p, "seller": sellers[(n + p) % len(sellers)],
          "amount": 1000 * (p + 1), "status": status, "now": now} for n, i in enumerate(ids) for p in range(2)])
    db.session.execute(text(
        "INSERT INTO psp_sessions (id, payment_event_id, attempt, status, payment_status, created_at, updated_at) "
        "VALUES (:session, :id, 1, 'open', 'unpaid', :now, :now)"),
        [{"id": i, "session": f"cs_{i}", "now": now} for i in ids])
    db.session.commit()
    db.session.execute(text("ANALYZE"))  # as autovacuum would have, on a live database
    db.session.commit()
    return ids


def bench_captures(merchant_id: str, sellers: list[str], count: int, batch: int) -> dict:
    ids = _checkouts(merchant_id, sellers, count, "SUCCESS")
    started = time.perf_counter()
    for start in range(0, count, batch):
        chunk = ids[start:start + batch]
        funds.lock_checkouts(set(chunk))
        events = db.session.scalars(select(PaymentEvent).where(PaymentEvent.id.in_(chunk))
                                    .options(selectinload(PaymentEvent.orders))).all()
        funds.record_captures([(event, 1) for event in events])
        db.session.commit()
    seconds = time.perf_counter() - started
    return {"checkouts": count, "entries": 2 * count, "seconds": round(seconds, 2),
            "entries_per_second": round(2 * count / seconds)}


def bench_inbox(merchant_id: str, sellers: list[str], count: int) -> dict:
    ids = _checkouts(merchant_id, sellers, count, "EXECUTING")
    for n, i in enumerate(ids):
        payload = json.dumps({"id": f"evt_{n}", "object": "event", "type": "checkout.session.completed",
                              "created": 0, "data": {"object": {
                                  "id": f"cs_{i}", "object": "checkout.session", "status": "complete",
                                  "payment_status": "paid", "payment_intent": f"pi_{n}"}}})
        inbox.receive(read_notice(payload), payload)
    before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    started = time.perf_counter()
    while inbox.drain(500).processed:
        pass
    seconds = time.perf_counter() - started
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry)) - before
    return {"payment_results": count, "entries": entries, "seconds": round(seconds, 2),
            "entries_per_second": round(entries / seconds), "results_per_second": round(count / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--sellers", type=int, default=200)
    parser.add_argument("--checkouts", type=int, default=3_000)
    args = parser.parse_args()
    result: dict = {"batch": args.batch, "sellers": args.sellers}
    for level in ("engine", "captures", "inbox"):
        name, url = create_postgres_database(POSTGRES_ADMIN_URL)
        try:
            app = _app(url.replace("postgresql://", "postgresql+psycopg://", 1))
            with app.app_context():
                merchant_id, sellers = _sellers(args.sellers)
                if level == "engine":
                    result[level] = bench_engine(args.orders, args.batch, sellers)
                elif level == "captures":
                    result[level] = bench_captures(merchant_id, sellers, args.checkouts * 4, args.batch // 2)
                else:
                    result[level] = bench_inbox(merchant_id, sellers, args.checkouts)
                report = verification.verify()
                # The engine level posts entries without payments behind them: only the books' own invariants
                # (balance, caches, signs, uniqueness) apply; the others compare the books with payment records.
                checks = LEDGER_CHECKS if level == "engine" else set(verification.CHECKS)
                failed = [v for v in report.violations if v.check in checks]
                result[level]["ledger_clean"] = not failed
                if failed:
                    print(report.text(), file=sys.stderr)
                db.session.remove()
                db.engine.dispose()
        finally:
            drop_postgres_database(POSTGRES_ADMIN_URL, name)
        print(level, json.dumps(result[level]), file=sys.stderr)
    result["machine"] = machine()
    save("ledger_posting", result)


if __name__ == "__main__":
    main()
