"""Webhooks to merchants: their endpoints, the events we record, one delivery per event and endpoint, and the log of
every attempt. Statuses are webapp.domain.webhooks' enums."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model


class WebhookEndpoint(Model):
    """A merchant's receiver. Its signing secret is stored encrypted (we must sign with it, so it cannot be a
    digest); while a rotation's overlap lasts the previous secret signs too."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (CheckConstraint("status IN ('enabled', 'disabled')", name="status_known"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("we"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(200))
    enabled_events: Mapped[str] = mapped_column(Text)  # comma-separated event types, or "*"
    secret_enc: Mapped[str] = mapped_column(Text)
    previous_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="enabled")
    disabled_reason: Mapped[str | None] = mapped_column(String(20))
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first failure after the last success
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def events(self) -> list[str]:
        return [name for name in self.enabled_events.split(",") if name]


class WebhookEvent(Model):
    """Something that happened to a merchant's object, recorded in the transaction that changed it. `body_enc` is
    the exact JSON delivered (the object as the API returns it, which may hold buyer data: encrypted at rest)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_merchant_created", "merchant_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("evt"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(60))
    body_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Model):
    """One event to one endpoint. `webhook-id` is the event's id on every attempt and Resend, so a receiver can
    drop duplicates. `claimed_until` is a worker's lease while an attempt is in flight."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("whd"))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(Model):
    """The delivery log: one row per HTTP attempt (status code or error, latency, the first bytes answered)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint", "endpoint_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
