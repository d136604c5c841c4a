"""The ledger's tables: accounts with their cached balances, journal entries, postings, and the per-order and
per-charge records the posting rules need (how an order was split, where its funds are, the PSP's fee).

Postings and journal entries are append-only: on PostgreSQL a trigger (migration 0003) refuses UPDATE and
DELETE on them; a correction is a new, reversing entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.dbtypes import UTCDateTime, utcnow
from webapp.extensions import Model

_KINDS = ("('psp_pending', 'psp_available', 'wallet_pending', 'wallet_available', 'fee_revenue', 'psp_fees', "
          "'refunds', 'payouts_in_transit', 'psp_connected', 'suspense')")
_FUNDS = "('pending', 'available')"
_ENTRY_KINDS = ("('capture', 'psp_fee', 'funds_available', 'refund_reserved', 'refund_paid', 'refund_released', "
                "'refund_returned', 'payout_reserved', 'payout_transferred', 'payout_paid', 'payout_unpaid', "
                "'payout_returned', 'payout_reversed', 'adjustment')")


def _bigint_id() -> Mapped[int]:
    return mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


class LedgerAccount(Model):
    """An account of one currency. `balance` caches `sign * sum(postings.amount)` (its normal side), updated
    under row locks in id order when the transaction that posted commits."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(f"kind IN {_KINDS}", name="kind_known"),
        CheckConstraint("sign IN (1, -1)", name="sign_known"),
        # An available wallet may go negative through a refund after a payout (see webapp.domain.ledger).
        CheckConstraint("kind <> 'wallet_pending' OR balance >= 0", name="pending_wallet_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # e.g. seller:sel_…:pending:USD
    kind: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    seller_account_id: Mapped[str | None] = mapped_column(ForeignKey("seller_accounts.id"), index=True)
    sign: Mapped[int] = mapped_column(SmallInteger)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    seller = relationship("SellerAccount")


class LedgerEntry(Model):
    """A journal entry: one business event, posted at most once (its `key` is unique)."""

    __tablename__ = "journal_entries"
    __table_args__ = (CheckConstraint(f"kind IN {_ENTRY_KINDS}", name="kind_known"),)

    id: Mapped[int] = _bigint_id()
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str | None] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(300), default="")
    payment_event_id: Mapped[str | None] = mapped_column(ForeignKey("payment_events.id"), index=True)
    payment_order_id: Mapped[str | None] = mapped_column(ForeignKey("payment_orders.id"))
    refund_id: Mapped[str | None] = mapped_column(ForeignKey("refunds.id"))
    payout_id: Mapped[str | None] = mapped_column(ForeignKey("payouts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    postings: Mapped[list[LedgerPosting]] = relationship(back_populates="entry", order_by="LedgerPosting.id")


class LedgerPosting(Model):
    """One line of a journal entry: `amount` minor units, positive for a debit, negative for a credit."""

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = _bigint_id()
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    # Checked at commit: accounts are created just before it, in id order (see services/ledger.py).
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id", deferrable=True, initially="DEFERRED"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[LedgerEntry] = relationship(back_populates="postings")
    account = relationship("LedgerAccount")


class OrderFunds(Model):
    """How a captured payment order was split, and where the seller's share of it is.

    `funds` is `pending` until the PSP makes the charge's money available, then `available`.
    `seller_pending` is what the availability entry will move: the seller's share minus refunds reserved
    from the pending side while the order was pending.
    """

    __tablename__ = "order_funds"
    __table_args__ = (
        CheckConstraint(f"funds IN {_FUNDS}", name="funds_known"),
        CheckConstraint("seller_pending >= 0", name="seller_pending_not_negative"),
        CheckConstraint("platform_fee >= 0 AND platform_fee <= amount", name="fee_within_amount"),
    )

    payment_order_id: Mapped[str] = mapped_column(ForeignKey("payment_orders.id"), primary_key=True)
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("payment_events.id"), index=True)
    seller_account_id: Mapped[str] = mapped_column(ForeignKey("seller_accounts.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    platform_fee: Mapped[int] = mapped_column(BigInteger)
    fee_bps: Mapped[int] = mapped_column(Integer)
    fee_fixed_minor: Mapped[int] = mapped_column(BigInteger)
    funds: Mapped[str] = mapped_column(String(20), default="pending")
    seller_pending: Mapped[int] = mapped_column(BigInteger)
    available_amount: Mapped[int | None] = mapped_column(BigInteger)  # the share moved to the available wallet
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def seller_share(self) -> int:
        return self.amount - self.platform_fee


class PspCharge(Model):
    """The PSP charge that paid a checkout, with its balance transaction: fee, net and when it is available
    (`available_on`, PSP time in Unix seconds). Each charge is recorded once."""

    __tablename__ = "psp_charges"
    __table_args__ = (CheckConstraint(f"funds IN {_FUNDS}", name="funds_known"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # ch_…
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("payment_events.id"), unique=True)
    payment_intent_id: Mapped[str] = mapped_column(String(255))
    balance_transaction_id: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    available_on: Mapped[int] = mapped_column(BigInteger)
    funds: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PspAvailability(Model):
    """Up to which PSP time the PSP has reported funds available (from `balance.available` events).

    One row per PSP account (`platform`). The row is also the lock that orders recording a charge against
    making charges available, so a charge can never miss the event that would have released it."""

    __tablename__ = "psp_availability"

    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    available_through: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
