"""Housekeeping that makes lost messages harmless: stale checkouts and payouts are checked with the PSP,
sellers whose onboarding job was lost are queued again, old idempotency keys are pruned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.domain.payments import OrderStatus
from webapp.domain.polling import next_poll_after
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

    A dropped webhook therefore delays a result by about that long. A checkout that stays quiet is asked about
    again less and less often (webapp.domain.polling, up to PSP_SYNC_MAX_INTERVAL_SECONDS apart), so thousands of
    abandoned checkouts neither spend the PSP's rate limit nor keep the recent ones out of the batch.
    """
    config = current_app.config
    window = config["PSP_SYNC_AFTER_SECONDS"]
    now = utcnow()
    due = (PaymentEvent.sync_due_at.is_(None)) | (PaymentEvent.sync_due_at <= now)
    stale = db.session.execute(
        select(PaymentEvent.id, PaymentEvent.psp_session_id, PaymentEvent.updated_at)
        .where(PaymentEvent.status.in_((OrderStatus.EXECUTING.value, OrderStatus.PENDING.value)),
               PaymentEvent.updated_at < now - timedelta(seconds=window), PaymentEvent.psp_session_id.is_not(None),
               due)
        .order_by(PaymentEvent.updated_at).limit(BATCH)).all()
    requested = [row for row in stale if checkout.request_sync(row.psp_session_id, max(window, 1))]
    checkout.schedule_next_syncs(
        [(row.id, now + next_poll_after(now - row.updated_at, timedelta(seconds=window),
                                        timedelta(seconds=config["PSP_SYNC_MAX_INTERVAL_SECONDS"])))
         for row in stale])
    payout_syncs = payout_updates.request_syncs(timedelta(seconds=config["PAYOUT_SYNC_AFTER_SECONDS"]),
                                                timedelta(seconds=config["PAYOUT_SYNC_MAX_INTERVAL_SECONDS"]))
    onboarding = db.session.scalars(select(SellerAccount).where(SellerAccount.psp_account_id.is_(None))
                                    .limit(BATCH)).all()
    for seller in onboarding:
        sellers.request_onboarding(seller)  # once per seller: a queued or finished job is not added again
    db.session.commit()
    return SweepResult(len(requested), idempotency.prune(), payout_syncs, len(onboarding))
