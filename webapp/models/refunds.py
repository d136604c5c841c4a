"""Refunds of payment orders. Status: see webapp.domain.refunds.RefundStatus."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model


class Refund(Model):
    """A refund of (part of) one payment order. `seller_share + fee_share == amount`; `funds` is the side of
    the seller's wallet the seller's share was reserved from. Each PSP refund is recorded once."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("status IN ('requested', 'pending', 'succeeded', 'failed', 'canceled')", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("seller_share >= 0 AND fee_share >= 0 AND seller_share + fee_share = amount",
                        name="split_adds_up"),
        CheckConstraint("funds IN ('pending', 'available')", name="funds_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rfd", 20))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("payment_events.id"), index=True)
    payment_order_id: Mapped[str] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    seller_account_id: Mapped[str] = mapped_column(ForeignKey("seller_accounts.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    seller_share: Mapped[int] = mapped_column(BigInteger)
    fee_share: Mapped[int] = mapped_column(BigInteger)
    funds: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="requested")
    psp_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order = relationship("PaymentOrder")
    payment_event = relationship("PaymentEvent")
    seller = relationship("SellerAccount")
