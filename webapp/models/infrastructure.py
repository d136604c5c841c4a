"""Tables that make the pipeline reliable: API idempotency keys, the outbox, and the inbox of PSP events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.dbtypes import UTCDateTime, utcnow
from webapp.extensions import Model


class IdempotencyKey(Model):
    """An `Idempotency-Key` a merchant sent: in flight until its response is stored with the result."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("merchant_id", "key", name="uq_idempotency_keys_merchant_key"),
        CheckConstraint("state IN ('in_flight', 'done')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    key: Mapped[str] = mapped_column(String(255))
    method_path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="in_flight")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMessage(Model):
    """Work recorded in the same transaction as the state change that needs it; workers drain it.

    `status`: pending (due at `available_at`), done, or dead (gave up after too many attempts; the job
    that gave up lands in RQ's failed registry). `claimed_until` is a lease: a worker killed mid-batch
    leaves rows that become claimable again once it passes.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        CheckConstraint("status IN ('pending', 'done', 'dead')", name="status_known"),
        Index("ix_outbox_due", "topic", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(50))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The request that recorded the work (its Request-Id); the worker binds it to every log line of the row.
    request_id: Mapped[str | None] = mapped_column(String(100))


class PspEvent(Model):
    """The inbox: each PSP event (webhook or poll) stored once by its id, then applied by a results job."""

    __tablename__ = "psp_events"
    __table_args__ = (Index("ix_psp_events_unprocessed", "processed_at", "received_at"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_... from the PSP
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(255), index=True)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
