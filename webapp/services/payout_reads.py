"""Reading payouts and sellers' pay-out state for the API, the portal and the admin pages (read-only).

Lists are keyset-paginated on (created_at, id), newest first, so pages stay fast and stable while payouts are
being created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from webapp.domain.ledger import AccountKind
from webapp.domain.payouts import AccountState, BankAccountStatus, ItemKind, PausedReason, PayoutStatus, paused_reason
from webapp.extensions import db
from webapp.models import LedgerAccount, PaymentEvent, PaymentOrder, Payout, PayoutItem, Refund, SellerAccount

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


def available_in_own_currency(seller_ids: list[str]) -> dict[str, int]:
    """Each seller's available wallet balance in its own currency (absent: no money movement yet), one query."""
    rows = db.session.execute(
        select(SellerAccount.id, LedgerAccount.balance)
        .join(LedgerAccount, (LedgerAccount.seller_account_id == SellerAccount.id)
              & (LedgerAccount.currency == SellerAccount.currency)
              & (LedgerAccount.kind == AccountKind.WALLET_AVAILABLE.value))
        .where(SellerAccount.id.in_(seller_ids))).all()
    return {seller_id: int(balance) for seller_id, balance in rows}
