"""Read-only queries the seller-account and payout API needs beyond webapp/services/payout_reads.py: a page of
a merchant's sellers, their available balances in one query, and the merchant's references (checkout ids,
payment order ids) behind a payout's statement lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from webapp.domain.errors import ValidationError
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder, PayoutItem, Refund, SellerAccount
from webapp.services import balances


@dataclass(frozen=True)
class SellerPage:
    sellers: list[SellerAccount]
    has_more: bool


def seller_page(merchant_id: str, *, limit: int, starting_after: str | None) -> SellerPage:
    """The merchant's seller accounts, newest first, keyset-paginated on (created_at, id)."""
    query = select(SellerAccount).where(SellerAccount.merchant_id == merchant_id)
    if starting_after is not None:
        cursor = db.session.get(SellerAccount, starting_after)
        if cursor is None or cursor.merchant_id != merchant_id:
            raise ValidationError(f"No such seller account: {starting_after!r}.", param="starting_after",
                                  code="resource_missing")
        query = query.where(or_(SellerAccount.created_at < cursor.created_at,
                                and_(SellerAccount.created_at == cursor.created_at, SellerAccount.id < cursor.id)))
    rows = list(db.session.scalars(query.order_by(SellerAccount.created_at.desc(), SellerAccount.id.desc())
                                   .limit(limit + 1)))
    return SellerPage(rows[:limit], len(rows) > limit)


def available_in_own_currency(sellers: Iterable[SellerAccount]) -> dict[str, int]:
    """Each seller's available wallet balance in its own currency (0 without one), in one query for a page."""
    wanted = {seller.id: seller.currency for seller in sellers}
    found = balances.wallets(wanted)
    return {seller_id: next((w.available for w in found.get(seller_id, []) if w.currency == currency), 0)
            for seller_id, currency in wanted.items()}


@dataclass(frozen=True)
class ItemRefs:
    """The merchant's own references behind statement lines: checkout ids of payments, and for a refund the
    refunded order's payment_order_id and its checkout."""

    checkouts: dict[str, str]                    # payment event id → checkout_id
    refunds: dict[str, tuple[str, str]]          # refund id → (payment_order_id, checkout_id)


def item_refs(items: Iterable[PayoutItem]) -> ItemRefs:
    lines = list(items)
    events = {item.payment_event_id for item in lines if item.payment_event_id}
    refund_ids = {item.refund_id for item in lines if item.refund_id}
    checkouts: dict[str, str] = {}
    if events:
        checkouts = {row.id: row.checkout_id for row in db.session.execute(
            select(PaymentEvent.id, PaymentEvent.checkout_id).where(PaymentEvent.id.in_(events)))}
    refunds: dict[str, tuple[str, str]] = {}
    if refund_ids:
        refunds = {row.id: (row.payment_order_id, row.checkout_id) for row in db.session.execute(
            select(Refund.id, PaymentOrder.payment_order_id, PaymentEvent.checkout_id)
            .join(PaymentOrder, PaymentOrder.id == Refund.payment_order_id)
            .join(PaymentEvent, PaymentEvent.id == Refund.payment_event_id)
            .where(Refund.id.in_(refund_ids)))}
    return ItemRefs(checkouts, refunds)
