"""Payouts to sellers' banks and the statement of what each one settles."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model

_STATUSES = "('pending', 'in_transit', 'paid', 'failed', 'canceled')"
_ITEM_KINDS = "('payment_order', 'refund', 'reversal', 'adjustment')"


class Payout(Model):
    """One payout of a seller's available balance: reserved from the wallet, transferred to the seller's connected
    account, paid out to its bank. `status` mirrors the PSP's payout (webapp.domain.payouts.PayoutStatus).

    At most one payout per seller, currency and schedule `period` (a day, an ISO week or a month; `now:<id>` for
    one someone asked for), enforced here, so overlapping payout runs cannot pay a seller twice."""

    __tablename__ = "payouts"
    __table_args__ = (
        UniqueConstraint("seller_account_id", "currency", "period", name="uq_payouts_seller_currency_period"),
        CheckConstraint(f"status IN {_STATUSES}", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payouts_merchant_created", "merchant_id", "created_at"),
        Index("ix_payouts_status_updated", "status", "updated_at"),
        Index("ix_payouts_status_sync_due", "status", "sync_due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pyt"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    seller_account_id: Mapped[str] = mapped_column(ForeignKey("seller_accounts.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(20))  # schedule | portal | api | admin_retry | cli
    status: Mapped[str] = mapped_column(String(20), default="pending")
    psp_account_id: Mapped[str] = mapped_column(String(255))
    psp_transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    psp_payout_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    psp_reversal_id: Mapped[str | None] = mapped_column(String(255))
    psp_bank_account_id: Mapped[str | None] = mapped_column(String(255))  # where it was sent
    arrival_date: Mapped[date | None] = mapped_column(Date)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    failure_balance_transaction_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the sweeper may next ask the PSP about this payout (webapp.domain.polling); None: once quiet.
    sync_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    seller = relationship("SellerAccount")
    items: Mapped[list[PayoutItem]] = relationship(back_populates="payout", order_by="PayoutItem.id")


class PayoutItem(Model):
    """One line of a payout's statement: a balance change of the seller's available wallet that the payout settles.
    `amount` is in the wallet's terms (a sale's share is positive, a refund negative); a payout's items sum to its
    amount. Items of a payout that failed are `released`: the next payout settles those changes again."""

    __tablename__ = "payout_items"
    __table_args__ = (CheckConstraint(f"kind IN {_ITEM_KINDS}", name="kind_known"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    payout_id: Mapped[str] = mapped_column(ForeignKey("payouts.id"), index=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    payment_event_id: Mapped[str | None] = mapped_column(ForeignKey("payment_events.id"))
    payment_order_id: Mapped[str | None] = mapped_column(ForeignKey("payment_orders.id"))
    refund_id: Mapped[str | None] = mapped_column(ForeignKey("refunds.id"))
    description: Mapped[str] = mapped_column(String(300), default="")
    released: Mapped[bool] = mapped_column(Boolean, default=False)

    payout: Mapped[Payout] = relationship(back_populates="items")
    order = relationship("PaymentOrder")
