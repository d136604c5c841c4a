"""Reads behind the portal's seller and payout pages that webapp.services.payout_reads does not cover: a
payout's statement lines with the ids a merchant knows them by, and every seller's available balance at once.
Read-only; each is one query whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from webapp.domain.ledger import AccountKind
from webapp.domain.payouts import ItemKind
from webapp.extensions import db
from webapp.models import LedgerAccount, PaymentEvent, PaymentOrder, PayoutItem, Refund, SellerAccount

KIND_LABELS = {ItemKind.PAYMENT_ORDER.value: "Payment order", ItemKind.REFUND.value: "Refund",
               ItemKind.REVERSAL.value: "Refund reversed", ItemKind.ADJUSTMENT.value: "Adjustment"}


@dataclass(frozen=True)
class StatementLine:
    """One line of a payout's statement, as the merchant reconciles it: which of its orders (its own
    `payment_order_id`), which checkout or refund, and the amount in the seller's wallet terms."""

    kind: str
    amount: int
    description: str
    order_reference: str | None  # the merchant's own payment_order_id
    checkout_id: str | None
    payment_event_id: str | None
    refund_id: str | None
    released: bool  # the payout failed: the next payout settles this change again

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def statement(payout_id: str) -> list[StatementLine]:
    """The payout's lines in the order they were settled."""
    order, refund_order = aliased(PaymentOrder), aliased(PaymentOrder)
    rows = db.session.execute(
        select(PayoutItem.kind, PayoutItem.amount, PayoutItem.description,
               func.coalesce(order.payment_order_id, refund_order.payment_order_id), PaymentEvent.checkout_id,
               PayoutItem.payment_event_id, PayoutItem.refund_id, PayoutItem.released)
        .outerjoin(order, order.id == PayoutItem.payment_order_id)
        .outerjoin(Refund, Refund.id == PayoutItem.refund_id)
        .outerjoin(refund_order, refund_order.id == Refund.payment_order_id)
        .outerjoin(PaymentEvent, PaymentEvent.id == PayoutItem.payment_event_id)
        .where(PayoutItem.payout_id == payout_id).order_by(PayoutItem.id)).all()
    return [StatementLine(kind, int(amount), description or "", reference, checkout, event, refund, bool(released))
            for kind, amount, description, reference, checkout, event, refund, released in rows]


def available_by_seller(merchant_id: str) -> dict[str, int]:
    """Each of the merchant's sellers' available wallet balance in its own currency (absent: nothing yet)."""
    rows = db.session.execute(
        select(SellerAccount.id, LedgerAccount.balance)
        .join(LedgerAccount, (LedgerAccount.seller_account_id == SellerAccount.id)
              & (LedgerAccount.currency == SellerAccount.currency)
              & (LedgerAccount.kind == AccountKind.WALLET_AVAILABLE.value))
        .where(SellerAccount.merchant_id == merchant_id)).all()
    return {seller_id: int(balance) for seller_id, balance in rows}
