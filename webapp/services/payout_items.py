"""A payout's statement: the balance changes of the seller's available wallet that it settles.

Every posting on a seller's available wallet is a balance change: a sale's share becoming available, a refund
taken from it, a failed refund giving its reservation back, an adjustment. A payout settles every change not yet
settled by another live payout (the postings of payouts themselves excepted), so its lines sum to its amount and
the wallet's balance equals the sum of the unsettled changes. A payout that fails releases its lines: the next
payout settles them again. One set-based query per seller, whatever the number of changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from webapp.domain import ledger as rules
from webapp.domain.payouts import ItemKind
from webapp.domain.wallets import Funds
from webapp.extensions import db
from webapp.models import LedgerEntry, LedgerPosting, OrderFunds, PaymentEvent, PaymentOrder, PayoutItem, Refund
from webapp.services import bulk

_NOT_LINES = (rules.EntryKind.PAYOUT_RESERVED.value, rules.EntryKind.PAYOUT_RETURNED.value)
_KIND_OF_ENTRY = {
    rules.EntryKind.FUNDS_AVAILABLE.value: ItemKind.PAYMENT_ORDER,
    rules.EntryKind.REFUND_RESERVED.value: ItemKind.REFUND,
    rules.EntryKind.REFUND_RELEASED.value: ItemKind.REVERSAL,
    rules.EntryKind.REFUND_RETURNED.value: ItemKind.REVERSAL,
}


@dataclass(frozen=True)
class Line:
    """One unsettled balance change: a posting, in the wallet's terms (money in is positive)."""

    posting_id: int
    amount: int
    entry_kind: str
    payment_event_id: str | None
    refund_id: str | None
    memo: str


def unsettled(sellers: dict[str, str], cutoff: datetime) -> dict[str, list[Line]]:
    """Per seller (id → currency), its available-wallet changes up to `cutoff` that no live payout settles yet:
    one query for all of them."""
    accounts = {rules.wallet(seller, Funds.AVAILABLE, currency).code: seller for seller, currency in sellers.items()}
    settled = select(PayoutItem.id).where(PayoutItem.posting_id == LedgerPosting.id, PayoutItem.released.is_(False))
    rows = db.session.execute(
        select(LedgerPosting.account_id, LedgerPosting.id, LedgerPosting.amount, LedgerEntry.kind,
               LedgerEntry.payment_event_id, LedgerEntry.refund_id, LedgerEntry.memo)
        .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
        .where(LedgerPosting.account_id.in_(sorted(accounts)), LedgerEntry.kind.not_in(_NOT_LINES),
               LedgerEntry.created_at <= cutoff, ~settled.exists())
        .order_by(LedgerPosting.id)).all()
    found: dict[str, list[Line]] = {seller: [] for seller in sellers}
    sign = rules.sign_of(rules.AccountKind.WALLET_AVAILABLE)
    for r in rows:
        found[accounts[r.account_id]].append(Line(r.id, sign * r.amount, r.kind, r.payment_event_id, r.refund_id,
                                                   r.memo))
    return found


def record(statements: list[tuple[str, str, list[Line]]]) -> None:
    """Write the statements of payouts (payout id, seller id, lines), a few statements for all of them: a sale's
    share is split into its payment orders where the ledger entry covered several of the seller's orders of one
    checkout."""
    lines_all = [line for _, _, lines in statements for line in lines]
    events = {line.payment_event_id for line in lines_all if line.payment_event_id}
    orders: dict[str, list[tuple[str, str, int | None]]] = defaultdict(list)
    checkouts: dict[str, str] = {}
    if events:
        for funds, reference in db.session.execute(
                select(OrderFunds, PaymentOrder.payment_order_id)
                .join(PaymentOrder, PaymentOrder.id == OrderFunds.payment_order_id)
                .where(OrderFunds.payment_event_id.in_(events)).order_by(PaymentOrder.position)):
            orders[f"{funds.payment_event_id}:{funds.seller_account_id}"].append(
                (funds.payment_order_id, reference, funds.available_amount))
        checkouts = {event: checkout for event, checkout in db.session.execute(
            select(PaymentEvent.id, PaymentEvent.checkout_id).where(PaymentEvent.id.in_(events)))}
    refunds = {line.refund_id for line in lines_all if line.refund_id}
    refund_orders = {refund: order for refund, order in db.session.execute(
        select(Refund.id, PaymentOrder.payment_order_id).join(PaymentOrder, PaymentOrder.id == Refund.payment_order_id)
        .where(Refund.id.in_(refunds)))} if refunds else {}
    rows = []
    for payout_id, seller_id, lines in statements:
        for line in lines:
            rows += _rows(payout_id, seller_id, line, orders, checkouts, refund_orders)
    bulk.insert_rows(PayoutItem, rows)


def _rows(payout_id: str, seller_id: str, line: Line, orders: dict[str, list[tuple[str, str, int | None]]],
          checkouts: dict[str, str], refund_orders: dict[str, str]) -> list[dict]:
    kind = _KIND_OF_ENTRY.get(line.entry_kind, ItemKind.ADJUSTMENT)
    checkout = checkouts.get(line.payment_event_id or "", "")
    base = {"payout_id": payout_id, "posting_id": line.posting_id, "kind": kind.value,
            "payment_event_id": line.payment_event_id, "refund_id": line.refund_id, "released": False}
    split = orders.get(f"{line.payment_event_id}:{seller_id}", []) if kind is ItemKind.PAYMENT_ORDER else []
    amounts = [a for _, _, a in split if a is not None]
    if split and len(amounts) == len(split) and sum(amounts) == line.amount:
        return [{**base, "payment_order_id": order_id, "amount": amount,
                 "description": f"Order {reference} (payment {checkout})"}
                for order_id, reference, amount in split if amount]  # zero: wholly refunded while pending
    if kind is ItemKind.REFUND:
        description = f"Refund {line.refund_id} of order {refund_orders.get(line.refund_id or '', '?')}"
    elif kind is ItemKind.REVERSAL:
        description = f"Refund {line.refund_id} failed; its amount is back"
    elif kind is ItemKind.PAYMENT_ORDER:
        description = f"Payment {checkout}"
    else:
        description = line.memo
    return [{**base, "payment_order_id": None, "amount": line.amount, "description": description[:300]}]
