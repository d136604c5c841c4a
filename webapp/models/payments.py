"""Checkouts (payment events), their payment orders, and the PSP sessions that pay them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model

_STATUSES = "('NOT_STARTED', 'EXECUTING', 'PENDING', 'FAILED', 'SUCCESS')"


class PaymentEvent(Model):
    """One checkout: what the buyer pays in one go. `id` is unguessable and names the checkout page."""

    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("merchant_id", "checkout_id", name="uq_payment_events_merchant_checkout"),
        CheckConstraint(f"status IN {_STATUSES}", name="status_known"),
        CheckConstraint("amount_total > 0", name="amount_positive"),
        Index("ix_payment_events_merchant_created", "merchant_id", "created_at", "id"),
        Index("ix_payment_events_status_updated", "status", "updated_at"),
        Index("ix_payment_events_merchant_email", "merchant_id", "buyer_email_hash"),
        Index("ix_payment_events_status_sync_due", "status", "sync_due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("pay", 24))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    checkout_id: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    amount_total: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="NOT_STARTED")
    # Buyer personal data, encrypted at rest (Fernet, DATA_ENCRYPTION_KEY).
    buyer_email_enc: Mapped[str] = mapped_column(Text)
    buyer_name_enc: Mapped[str | None] = mapped_column(Text)
    # Keyed hash of the normalised email (webapp.services.lookup): the portal and the admin console find a buyer's
    # payments without decrypting every row.
    buyer_email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    success_url: Mapped[str | None] = mapped_column(String(2048))
    cancel_url: Mapped[str | None] = mapped_column(String(2048))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    psp_session_id: Mapped[str | None] = mapped_column(String(255))
    psp_session_url: Mapped[str | None] = mapped_column(String(2048))
    failure_code: Mapped[str | None] = mapped_column(String(50))
    # When the sweeper may next ask the PSP about this checkout (webapp.domain.polling); None: once quiet.
    sync_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    merchant = relationship("Merchant")
    orders: Mapped[list[PaymentOrder]] = relationship(back_populates="event", order_by="PaymentOrder.position")
    sessions: Mapped[list[PspSession]] = relationship(back_populates="event", order_by="PspSession.attempt")


class PaymentOrder(Model):
    """One seller's share of a checkout. Status: see webapp.domain.payments.OrderStatus."""

    __tablename__ = "payment_orders"
    __table_args__ = (
        UniqueConstraint("payment_event_id", "payment_order_id", name="uq_payment_orders_event_order"),
        CheckConstraint(f"status IN {_STATUSES}", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_orders_order_ref", "payment_order_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("po"))
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("payment_events.id"), index=True)
    payment_order_id: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)
    seller_account_id: Mapped[str] = mapped_column(ForeignKey("seller_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(20), default="NOT_STARTED")
    ledger_updated: Mapped[bool] = mapped_column(Boolean, default=False)
    wallet_updated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[PaymentEvent] = relationship(back_populates="orders")
    seller = relationship("SellerAccount")


class PspSession(Model):
    """A Checkout Session registered at the PSP for one attempt of a checkout; each is recorded once."""

    __tablename__ = "psp_sessions"
    __table_args__ = (UniqueConstraint("payment_event_id", "attempt", name="uq_psp_sessions_event_attempt"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the PSP's id, e.g. cs_test_...
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("payment_events.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(20), default="open")
    payment_status: Mapped[str] = mapped_column(String(30), default="unpaid")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[PaymentEvent] = relationship(back_populates="sessions")


class PaymentActivity(Model):
    """The timeline of a checkout: attempts, status changes and the PSP events that caused them."""

    __tablename__ = "payment_activity"
    __table_args__ = (Index("ix_payment_activity_event_created", "payment_event_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("payment_events.id"))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(500))
    psp_event_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment_event = relationship("PaymentEvent")
