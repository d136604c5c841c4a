"""Read-only queries the seller-account API needs beyond webapp/services/payout_reads.py: a page of a merchant's
sellers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from webapp.domain.errors import ValidationError
from webapp.extensions import db
from webapp.models import SellerAccount


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
