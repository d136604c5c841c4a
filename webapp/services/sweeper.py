"""Housekeeping that makes lost messages harmless: stale checkouts are checked with the PSP, old
idempotency keys are pruned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import PaymentEvent
from webapp.services import checkout, idempotency

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    syncs_requested: int
    keys_pruned: int


def sweep() -> SweepResult:
    """Ask the PSP about checkouts still EXECUTING or PENDING with no news for PSP_SYNC_AFTER_SECONDS.

    A dropped webhook therefore delays a result by at most that long; each stale checkout is polled at
    most once per such window (the outbox deduplicates per window).
    """
    window = current_app.config["PSP_SYNC_AFTER_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=window)
    stale = db.session.scalars(
        select(PaymentEvent.psp_session_id)
        .where(PaymentEvent.status.in_(("EXECUTING", "PENDING")), PaymentEvent.updated_at < cutoff,
               PaymentEvent.psp_session_id.is_not(None))
        .order_by(PaymentEvent.updated_at).limit(BATCH)).all()
    requested = sum(1 for session_id in stale if session_id and checkout.request_sync(session_id, max(window, 1)))
    db.session.commit()
    return SweepResult(requested, idempotency.prune())
