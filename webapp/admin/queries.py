"""Reads behind the admin's Payouts page (read-only, one query each)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from webapp.domain.payouts import PayoutStatus
from webapp.extensions import db
from webapp.models import Merchant, Payout, PayoutItem

FAILED_SHOWN = 100


def failed_not_paid_again(limit: int = FAILED_SHOWN) -> list[Payout]:
    """Failed payouts, newest first, whose money no later live payout has settled yet: the ones an admin may
    need to retry. (A failed payout's lines are released; a later payout that settles the same balance changes
    resolves it.)"""
    again = aliased(PayoutItem)
    settled_again = (select(PayoutItem.id).join(again, again.posting_id == PayoutItem.posting_id)
                     .where(PayoutItem.payout_id == Payout.id, again.payout_id != Payout.id,
                            again.released.is_(False)))
    return list(db.session.scalars(
        select(Payout).where(Payout.status == PayoutStatus.FAILED.value, ~settled_again.exists())
        .options(selectinload(Payout.seller)).order_by(Payout.created_at.desc(), Payout.id.desc()).limit(limit)))


def merchant_names(merchant_ids: Iterable[str]) -> dict[str, str]:
    ids = set(merchant_ids)
    if not ids:
        return {}
    return {merchant_id: name for merchant_id, name in
            db.session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids)))}
