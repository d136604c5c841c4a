"""`flask ledger verify` over a million postings, on PostgreSQL.

    .venv/bin/python bench/ledger_verify.py [--postings 1000000] [--sellers 500] [--keep]

Builds a realistic ledger through the gateway's own services on a fresh database: paid checkouts of two
orders (captures through `funds.record_captures`), each charge's PSP fee and availability entries, and
partial refunds of one order in ten (reserved and paid), until the postings table holds `--postings` rows;
then every seller is paid out through the payout run (`payouts.run`: one itemized payout each), and each
payout's transfer and its `paid` news are applied through `payout_updates` as the PSP's answers would be.
Then times `flask --app wsgi ledger verify` as a separate process (what an operator runs; its exit code
must be 0) and `verification.verify()` in-process, and saves bench/results/ledger_verify.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))

from harness import save  # noqa: E402
from ledger_posting import _app, _checkouts, _sellers  # noqa: E402
from sqlalchemy import func, select, text, update  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database  # noqa: E402
from webapp.dbtypes import new_id, utcnow  # noqa: E402
from webapp.domain import ledger as rules  # noqa: E402
from webapp.domain.wallets import Funds, RefundPolicy, refund_split  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import LedgerPosting, OrderFunds, PaymentEvent, Payout, PspCharge, Refund, SellerAccount  # noqa: E402
from webapp.psp import PspPayout, PspPayoutStatus  # noqa: E402
from webapp.services import bulk, funds, ledger, payout_updates, payouts, verification  # noqa: E402
from webapp.services.ledger import Links  # noqa: E402

BATCH = 250  # checkouts per transaction
# Per checkout: 2 captures (6 postings), the PSP fee (2), funds available (2 + 2 per seller = 6); one refund in
# ten orders adds a reservation (3) and its payment (2).
POSTINGS_PER_CHECKOUT = 14 + 2 * 5 / 10


def _settle(events: list[PaymentEvent], n0: int) -> None:
    """The PSP fee and funds availability of each checkout, and a partial refund of one order in ten."""
    now = utcnow()
    charges, items, refunds = [], [], []
    splits = {f.payment_order_id: f for f in db.session.scalars(
        select(OrderFunds).where(OrderFunds.payment_event_id.in_([e.id for e in events])))}
    for n, event in enumerate(events, n0):
        charge_id, fee = f"ch_{event.id}", round(event.amount_total * 0.029) + 30
        net = event.amount_total - fee
        charges.append({"id": charge_id, "payment_event_id": event.id, "payment_intent_id": f"pi_{event.id}",
                        "balance_transaction_id": f"txn_{event.id}", "currency": "USD",
                        "amount": event.amount_total, "fee": fee, "net": net, "available_on": 0,
                        "funds": "available", "created_at": now, "available_at": now})
        sellers: dict[str, int] = {}
        for order in event.orders:
            sellers[order.seller_account_id] = sellers.get(order.seller_account_id, 0) + splits[order.id].seller_pending
        items += [(rules.psp_fee(charge_id, "USD", fee), Links(event.id)),
                  (rules.funds_available(charge_id, "USD", net, sellers), Links(event.id))]
        for position, order in enumerate(event.orders):
            if (2 * n + position) % 10:
                continue
            split = refund_split(order.amount, splits[order.id].platform_fee, [], order.amount // 3,
                                 RefundPolicy.PROPORTIONAL)
            refund_id = new_id("rfd", 20)
            refunds.append({"id": refund_id, "merchant_id": event.merchant_id, "payment_event_id": event.id,
                            "payment_order_id": order.id, "seller_account_id": order.seller_account_id,
                            "currency": "USD", "amount": split.amount, "seller_share": split.seller_share,
                            "fee_share": split.fee_share, "funds": "available", "reason": None, "source": "api",
                            "status": "succeeded", "psp_refund_id": f"re_{refund_id}", "failure_reason": None,
                            "created_at": now, "updated_at": now})
            links = Links(event.id, order.id, refund_id)
            items += [(rules.refund_reserved(refund_id, order.seller_account_id, Funds.AVAILABLE, "USD",
                                             split.seller_share, split.fee_share), links),
                      (rules.refund_paid(refund_id, "USD", split.amount), links)]
    bulk.insert_rows(PspCharge, charges)
    bulk.insert_rows(Refund, refunds)
    ledger.post_many(items)
    db.session.execute(update(OrderFunds).where(OrderFunds.payment_event_id.in_([e.id for e in events]))
                       .values(funds="available", seller_pending=0, available_at=now))


def pay_out() -> dict:
    """Every seller paid out: the run reserves (itemized), then each payout is transferred and paid."""
    db.session.execute(update(SellerAccount).values(psp_account_id="acct_" + SellerAccount.id,
                                                    account_state="active", payouts_enabled=True,
                                                    bank_account_status="active"))
    db.session.commit()
    started = time.perf_counter()
    result = payouts.run(date.today(), source="bench")
    for start in range(0, len(result.created), BATCH):
        for payout in db.session.scalars(select(Payout).where(Payout.id.in_(result.created[start:start + BATCH]))):
            payout_updates.transferred(payout.id, f"tr_{payout.id}")
            payout_updates.apply_psp_payout(PspPayout(
                f"po_{payout.id}", payout.psp_account_id, payout.amount, payout.currency, PspPayoutStatus.PAID, None,
                None, None, None, None, {"payout_id": payout.id}), source="bench")
        db.session.commit()
    return {"payouts": len(result.created), "payout_seconds": round(time.perf_counter() - started, 1)}


def build(target: int, sellers: int) -> dict:
    merchant_id, seller_ids = _sellers(sellers)
    started, n = time.perf_counter(), 0
    while db.session.scalar(select(func.count()).select_from(LedgerPosting)) < target:
        left = int((target - n * POSTINGS_PER_CHECKOUT) / POSTINGS_PER_CHECKOUT) + 1
        ids = _checkouts(merchant_id, seller_ids, max(1, min(BATCH * 8, left)), "SUCCESS")
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            events = list(db.session.scalars(select(PaymentEvent).where(PaymentEvent.id.in_(chunk))
                                             .options(selectinload(PaymentEvent.orders))))
            funds.record_captures([(event, 1) for event in events])
            _settle(events, n)
            db.session.commit()
            n += len(events)
        print(f"  {n:,} checkouts, {db.session.scalar(select(func.count()).select_from(LedgerPosting)):,} "
              f"postings", file=sys.stderr)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {"checkouts": n, "build_seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    args = parser.parse_args()
    name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        app = _app(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with app.app_context():
            result = build(args.postings, args.sellers)
            result.update(pay_out())
            report = verification.verify()  # warm-up: the first scan also reads the tables into memory
            timings = []
            for _ in range(3):
                report = verification.verify()
                timings.append(report.seconds)
            result.update(postings=report.postings, entries=report.entries, accounts=report.accounts,
                          clean=report.ok, in_process_seconds=[round(t, 2) for t in timings])
            db.session.remove()
            db.engine.dispose()
        env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test", "REDIS_URL": "redis://127.0.0.1:6379/7"}
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "verify"], cwd=ROOT,
                                  env=env, capture_output=True, text=True)
            runs.append(round(time.perf_counter() - started, 2))
            if done.returncode != 0:
                print(done.stdout, done.stderr, file=sys.stderr)
                raise SystemExit("flask ledger verify did not report a clean ledger")
        result.update(command_seconds=runs, command_output=done.stdout.splitlines()[0])
        save("ledger_verify", result)
    finally:
        if args.keep:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            drop_postgres_database(POSTGRES_ADMIN_URL, name)


if __name__ == "__main__":
    main()
