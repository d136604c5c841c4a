"""Housekeeping that makes lost messages harmless: stale checkouts and payouts are checked with the PSP,
sellers whose onboarding job was lost are queued again, old idempotency keys are pruned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from webapp.dbtypes import utcnow
from webapp.domain.payments import OrderStatus
from webapp.domain.polling import next_poll_after
from webapp.extensions import db
from webapp.models import PaymentEvent, SellerAccount
from webapp.services import checkout, idempotency, outbox, payout_updates, sellers

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
    abandoned checkouts neither spend the PSP's rate limit nor keep the recent ones out of the batch. The polls
    run behind everything a buyer waits on (the low queue), and no more are queued while a batch's worth still
    waits: a slow PSP makes them late, never piles them up.
    """
    config = current_app.config
    window = timedelta(seconds=config["PSP_SYNC_AFTER_SECONDS"])
    ceiling = timedelta(seconds=config["PSP_SYNC_MAX_INTERVAL_SECONDS"])
    now = utcnow()
    room = BATCH - outbox.pending_count(checkout.POLL_TOPIC)
    stale = db.session.execute(
        select(PaymentEvent.id, PaymentEvent.psp_session_id, PaymentEvent.updated_at)
        .where(PaymentEvent.status.in_((OrderStatus.EXECUTING.value, OrderStatus.PENDING.value)),
               PaymentEvent.updated_at < now - window, PaymentEvent.psp_session_id.is_not(None),
               PaymentEvent.sync_due_at.is_(None) | (PaymentEvent.sync_due_at <= now))
        .order_by(func.coalesce(PaymentEvent.sync_due_at, PaymentEvent.updated_at)).limit(max(room, 0))).all()
    checkout.request_polls([(row.id, row.psp_session_id, now + next_poll_after(now - row.updated_at, window, ceiling))
                            for row in stale])
    payout_syncs = payout_updates.request_syncs(timedelta(seconds=config["PAYOUT_SYNC_AFTER_SECONDS"]),
                                                timedelta(seconds=config["PAYOUT_SYNC_MAX_INTERVAL_SECONDS"]))
    onboarding = db.session.scalars(select(SellerAccount).where(SellerAccount.psp_account_id.is_(None))
                                    .limit(BATCH)).all()
    for seller in onboarding:
        sellers.request_onboarding(seller)  # once per seller: a queued or finished job is not added again
    db.session.commit()
    return SweepResult(len(stale), idempotency.prune(), payout_syncs, len(onboarding))
