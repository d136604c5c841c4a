"""Housekeeping that makes lost messages harmless: stale checkouts and payouts are checked with the PSP,
sellers whose onboarding job was lost are queued again, old idempotency keys are pruned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import PaymentEvent, SellerAccount
from webapp.services import checkout, idempotency, payout_updates, sellers

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    syncs_requested: int
    keys_pruned: int
    payout_syncs_requested: int = 0
    onboardings_requested: int = 0


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
    payout_syncs = payout_updates.request_syncs(timedelta(seconds=current_app.config["PAYOUT_SYNC_AFTER_SECONDS"]))
    onboarding = db.session.scalars(select(SellerAccount).where(SellerAccount.psp_account_id.is_(None))
                                    .limit(BATCH)).all()
    for seller in onboarding:
        sellers.request_onboarding(seller)  # once per seller: a queued or finished job is not added again
    db.session.commit()
    return SweepResult(requested, idempotency.prune(), payout_syncs, len(onboarding))
