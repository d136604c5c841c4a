"""Reading payouts and sellers' pay-out state for the API, the portal and the admin pages (read-only).

Lists are keyset-paginated on (created_at, id), newest first, so pages stay fast and stable while payouts are
being created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from webapp.domain.ledger import AccountKind
from webapp.domain.payouts import AccountState, BankAccountStatus, PausedReason, PayoutStatus, paused_reason
from webapp.extensions import db
from webapp.models import LedgerAccount, Payout, PayoutItem, SellerAccount

MAX_PAGE = 100


@dataclass(frozen=True)
class PayoutFilter:
    merchant_id: str | None = None  # None: every merchant (admins)
    seller_account_id: str | None = None
    status: PayoutStatus | None = None
    arrival_from: date | None = None
    arrival_to: date | None = None


@dataclass(frozen=True)
class PayoutPage:
    payouts: list[Payout]
    has_more: bool


def _after(cursor: Payout):
    return or_(Payout.created_at < cursor.created_at,
               and_(Payout.created_at == cursor.created_at, Payout.id < cursor.id))


def list_payouts(where: PayoutFilter, *, limit: int = 25, starting_after: str | None = None) -> PayoutPage:
    """Payouts matching `where`, newest first, `limit` at a time after the
    payout `starting_after` (an id of the previous page's last payout). Loads each payout's seller."""
    query = select(Payout).options(selectinload(Payout.seller))
    if where.merchant_id is not None:
        query = query.where(Payout.merchant_id == where.merchant_id)
    if where.seller_account_id is not None:
        query = query.where(Payout.seller_account_id == where.seller_account_id)
    if where.status is not None:
        query = query.where(Payout.status == where.status.value)
    if where.arrival_from is not None:
        query = query.where(Payout.arrival_date >= where.arrival_from)
    if where.arrival_to is not None:
        query = query.where(Payout.arrival_date <= where.arrival_to)
    if starting_after:
        cursor = db.session.get(Payout, starting_after)
        if cursor is not None and (where.merchant_id is None or cursor.merchant_id == where.merchant_id):
            query = query.where(_after(cursor))
    rows = list(db.session.scalars(query.order_by(Payout.created_at.desc(), Payout.id.desc())
                                   .limit(min(limit, MAX_PAGE) + 1)))
    return PayoutPage(rows[:limit], len(rows) > limit)


def get_payout(payout_id: str, merchant_id: str | None = None) -> Payout | None:
    """One payout with its statement lines (and their orders) and its seller; None if not the merchant's."""
    payout = db.session.scalar(
        select(Payout).where(Payout.id == payout_id)
        .options(selectinload(Payout.items).selectinload(PayoutItem.order), selectinload(Payout.seller)))
    if payout is None or (merchant_id is not None and payout.merchant_id != merchant_id):
        return None
    return payout


@dataclass(frozen=True)
class SellerBalance:
    """A seller's money per currency: not yet available, available (negative after a refund that followed a
    payout), and in payouts not yet paid."""

    currency: str
    pending: int
    available: int
    in_transit: int


def seller_balances(seller: SellerAccount) -> list[SellerBalance]:
    """The seller's balances, always including its own currency."""
    found: dict[str, dict[str, int]] = {seller.currency: {}}
    for currency, kind, balance in db.session.execute(
            select(LedgerAccount.currency, LedgerAccount.kind, LedgerAccount.balance)
            .where(LedgerAccount.seller_account_id == seller.id)):
        found.setdefault(currency, {})[kind] = int(balance)
    for currency, amount in db.session.execute(
            select(Payout.currency, Payout.amount).where(
                Payout.seller_account_id == seller.id,
                Payout.status.in_([PayoutStatus.PENDING.value, PayoutStatus.IN_TRANSIT.value]))):
        found.setdefault(currency, {})
        found[currency]["in_transit"] = found[currency].get("in_transit", 0) + int(amount)
    return [SellerBalance(currency, kinds.get(AccountKind.WALLET_PENDING.value, 0),
                          kinds.get(AccountKind.WALLET_AVAILABLE.value, 0), kinds.get("in_transit", 0))
            for currency, kinds in sorted(found.items())]


def paused(seller: SellerAccount, balances: list[SellerBalance] | None = None) -> PausedReason | None:
    """Why the seller's payouts are paused right now (None: its next scheduled run can pay it)."""
    own = next((b for b in balances or seller_balances(seller) if b.currency == seller.currency), None)
    return paused_reason(state=AccountState(seller.account_state), bank=BankAccountStatus(seller.bank_account_status),
                         available=own.available if own else 0, minimum=seller.minimum_payout_minor)

