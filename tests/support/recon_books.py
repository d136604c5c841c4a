"""A day of many movements, booked through the real services and posting rules (so the ledger's invariants hold),
with the settlement report the PSP would write for it: for tests that need hundreds of rows of each kind.

Checkouts are captured by `funds.record_captures` (as a webhook would), their charges and PSP fees recorded as the
fee job does, refunds requested through `refunds.request` and paid through `refunds.move` (as the refund webhook
does). The report rows carry the columns the gateway asks the Reporting API for, amounts in major units.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tests.support import factories
from webapp.dbtypes import new_id, utcnow
from webapp.domain import ledger as rules
from webapp.domain.money import Money
from webapp.domain.reconciliation import day_bounds
from webapp.domain.refunds import RefundRequest, RefundStatus
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder, PspCharge, PspSession, Refund
from webapp.services import bulk, funds, ledger, refunds
from webapp.services.ledger import Links
from webapp.services.reconciliation.settlement import PLATFORM_COLUMNS


@dataclass
class Day:
    day: date
    header: list[str]
    lines: list[dict[str, str]]


def _major(minor: int, currency: str = "USD") -> str:
    return Money(minor, currency).decimal_string if minor >= 0 else "-" + Money(-minor, currency).decimal_string


def _time(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def build(day: date, checkouts: int, refunded: int, seed: int = 7) -> Day:
    """`checkouts` paid checkouts of one order each and `refunded` of them partly refunded, all booked now (the
    caller's `day` must be today, UTC), with their report rows at random times of `day`."""
    rng = random.Random(seed)
    merchant = factories.merchant()
    seller = factories.seller(merchant)
    now = utcnow()
    events, orders, sessions = [], [], []
    for index in range(checkouts):
        event_id, amount = new_id("pay", 24), rng.randint(500, 50_000)
        events.append({"id": event_id, "merchant_id": merchant.id, "checkout_id": f"chk_{index}_{secrets.token_hex(3)}",
                       "request_hash": "0" * 64, "currency": "USD", "amount_total": amount, "status": "SUCCESS",
                       "buyer_email_enc": "-", "attempt": 1, "psp_session_id": f"cs_gen_{event_id}",
                       "created_at": now, "updated_at": now})
        orders.append({"id": new_id("po"), "payment_event_id": event_id, "payment_order_id": f"order-{index}",
                       "position": 0, "seller_account_id": seller.id, "amount": amount, "currency": "USD",
                       "status": "SUCCESS", "ledger_updated": False, "wallet_updated": False, "created_at": now,
                       "updated_at": now})
        sessions.append({"id": f"cs_gen_{event_id}", "payment_event_id": event_id, "attempt": 1, "status": "complete",
                         "payment_status": "paid", "payment_intent_id": f"pi_gen_{event_id}", "created_at": now,
                         "updated_at": now})
    bulk.insert_rows(PaymentEvent, events)
    bulk.insert_rows(PaymentOrder, orders)
    bulk.insert_rows(PspSession, sessions)
    loaded = list(db.session.scalars(select(PaymentEvent).where(PaymentEvent.merchant_id == merchant.id)
                                     .options(selectinload(PaymentEvent.orders))))
    funds.record_captures([(event, 1) for event in loaded])
    start, _ = day_bounds(day)
    lines, charges, entries = [], [], []
    for event in loaded:
        fee = round(event.amount_total * 0.029) + 30
        charge_id = f"ch_gen_{event.id}"
        charges.append({"id": charge_id, "payment_event_id": event.id, "payment_intent_id": f"pi_gen_{event.id}",
                        "balance_transaction_id": f"txn_{charge_id}", "currency": "USD",
                        "amount": event.amount_total, "fee": fee, "net": event.amount_total - fee,
                        "available_on": start + 2 * 86_400, "funds": "pending", "created_at": now})
        entries.append((rules.psp_fee(charge_id, "USD", fee), Links(event.id)))
        lines.append(_line(f"txn_{charge_id}", start + rng.randint(60, 86_000), "charge", charge_id,
                           event.amount_total, fee, payment_intent_id=f"pi_gen_{event.id}", event_id=event.id))
    bulk.insert_rows(PspCharge, charges)
    ledger.post_many(entries)
    db.session.commit()
    for event in rng.sample(loaded, refunded):
        order = event.orders[0]
        command = RefundRequest(order.payment_order_id, _major(order.amount // 3), None, secrets.token_hex(8))
        answer = refunds.request(merchant, event.checkout_id, command, None, lambda r: {"id": r.id})
        refund = db.session.get(Refund, answer.body["id"])
        assert refund is not None
        funds.lock_checkouts({event.id})
        refund.psp_refund_id = f"re_gen_{refund.id}"
        refunds.move(refund, RefundStatus.SUCCEEDED, source="test books")
        db.session.commit()
        lines.append(_line(f"txn_{refund.psp_refund_id}", start + rng.randint(60, 86_000), "refund",
                           refund.psp_refund_id, -refund.amount, 0, payment_intent_id=f"pi_gen_{event.id}",
                           refund_id=refund.id))
    rng.shuffle(lines)
    return Day(day, list(PLATFORM_COLUMNS), lines)


def _line(txn: str, created: int, category: str, source: str, gross: int, fee: int, *, payment_intent_id: str = "",
          event_id: str = "", refund_id: str = "") -> dict[str, str]:
    return {"balance_transaction_id": txn, "created_utc": _time(created), "available_on_utc": _time(created),
            "currency": "usd", "gross": _major(gross), "fee": _major(fee), "net": _major(gross - fee),
            "reporting_category": category, "source_id": source, "description": "", "payment_intent_id":
            payment_intent_id, "payment_metadata[payment_event_id]": event_id if category == "charge" else "",
            "refund_metadata[refund_id]": refund_id, "transfer_metadata[payout_id]": ""}
