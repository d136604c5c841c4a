"""What happens to a payout after it was reserved: the PSP's answers to our transfer and payout calls, and its
news about the payout (webhooks, or the sweeper's polls: the same path).

Statuses move `pending → in_transit → paid | failed | canceled`, never backwards except a bank's late
`paid → failed`. Paid: nothing is owed any more. Failed or canceled: the money goes back to the wallet, the
statement lines are released for the next payout, the transfer is reversed back to the platform
(`payouts.reverse`), and a failed bank account pauses the seller's payouts until it is replaced.

Lock order, shared with every writer: seller row, then payout row, then ledger accounts (at commit).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from webapp.dbtypes import utcnow
from webapp.domain import ledger_payouts as payout_rules
from webapp.domain.payouts import PayoutStatus, next_payout_status
from webapp.extensions import db
from webapp.models import Payout, PayoutItem
from webapp.psp import PspPayout, PspPayoutStatus
from webapp.services import ledger, outbox, sellers
from webapp.services.ledger import Links
from webapp.services.payouts import REVERSE_TOPIC, SUBMIT_TOPIC, SYNC_TOPIC

log = logging.getLogger(__name__)


def lock(payout_id: str) -> Payout | None:
    return db.session.scalar(select(Payout).where(Payout.id == payout_id).with_for_update()
                             .execution_options(populate_existing=True))


def _return_money(payout: Payout, *, reverse_transfer: bool) -> None:
    """A payout that did not reach the bank: its amount back in the wallet, its lines free for the next payout,
    and the transfer (if one was made) reversed back to the platform."""
    ledger.post(payout_rules.payout_returned(payout.id, payout.seller_account_id, payout.currency, payout.amount),
                Links(payout_id=payout.id))
    db.session.execute(update(PayoutItem).where(PayoutItem.payout_id == payout.id).values(released=True))
    if reverse_transfer and payout.psp_transfer_id:
        outbox.add(REVERSE_TOPIC, f"payout-reverse:{payout.id}", {"payout": payout.id})


def transferred(payout_id: str, transfer_id: str, *, submit: bool = True) -> None:
    """The PSP made the payout's transfer (caller commits): book it and, unless the payout to the bank was
    created with it (`submit=False`), ask for that payout."""
    payout = lock(payout_id)
    if payout is None or payout.psp_transfer_id == transfer_id:
        return
    payout.psp_transfer_id, payout.updated_at = transfer_id, utcnow()
    ledger.post(payout_rules.payout_transferred(payout.id, payout.currency, payout.amount), Links(payout_id=payout.id))
    if PayoutStatus(payout.status) is not PayoutStatus.PENDING:  # canceled meanwhile: the transfer goes back
        outbox.add(REVERSE_TOPIC, f"payout-reverse:{payout.id}", {"payout": payout.id})
    elif submit:
        outbox.add(SUBMIT_TOPIC, f"payout-submit:{payout.id}", {"payout": payout.id})


def refused(payout_id: str, code: str | None, message: str) -> None:
    """The PSP refused the transfer or the payout itself (caller commits): the payout fails and its money comes
    back; a transfer already made is reversed."""
    payout = lock(payout_id)
    if payout is None or PayoutStatus(payout.status) is not PayoutStatus.PENDING:
        return
    payout.status = (PayoutStatus.FAILED if payout.psp_transfer_id else PayoutStatus.CANCELED).value
    payout.failure_code, payout.failure_message = (code or "refused")[:100], message[:500]
    payout.updated_at = payout.settled_at = utcnow()
    _return_money(payout, reverse_transfer=True)


def reversed_(payout_id: str, reversal_id: str) -> None:
    """The transfer of a payout that did not reach the bank is back on the platform's balance (caller commits)."""
    payout = lock(payout_id)
    if payout is None or payout.psp_reversal_id:
        return
    payout.psp_reversal_id, payout.updated_at = reversal_id, utcnow()
    ledger.post(payout_rules.payout_reversed(payout.id, payout.currency, payout.amount), Links(payout_id=payout.id))


def apply_psp_payout(found: PspPayout, *, source: str) -> str:
    """Apply what the PSP says about one of our payouts (caller commits). Returns what happened."""
    payout_id = found.metadata.get("payout_id")
    seen = db.session.execute(select(Payout.id, Payout.status, Payout.psp_payout_id).where(
        (Payout.psp_payout_id == found.id) | (Payout.id == (payout_id or "")))).first()
    if seen is not None and seen.psp_payout_id == found.id and not next_payout_status(
            PayoutStatus(seen.status), PayoutStatus(found.status.value)).changed:
        # Nothing to change (a payout's first `pending` news, a repeat): no row lock, so news never waits for the
        # payout run's batches that hold it.
        return f"{found.status.value}:no_change"
    payout = lock(seen.id) if seen is not None else None
    if payout is None:
        return "unknown_payout"
    if payout.psp_payout_id is None:
        payout.psp_payout_id = found.id  # the news arrived before the job that created it recorded it
    elif payout.psp_payout_id != found.id:
        return "other_psp_payout"
    if found.arrival_date:
        payout.arrival_date = datetime.fromtimestamp(found.arrival_date, UTC).date()
    transition = next_payout_status(PayoutStatus(payout.status), PayoutStatus(found.status.value))
    if not transition.changed:
        return f"{found.status.value}:no_change"
    payout.status, payout.updated_at = transition.after.value, utcnow()
    links = Links(payout_id=payout.id)
    if transition.after is PayoutStatus.PAID:
        payout.settled_at = payout.updated_at
        ledger.post(payout_rules.payout_paid(payout.id, payout.currency, payout.amount), links)
    if transition.unpays:
        ledger.post(payout_rules.payout_unpaid(payout.id, payout.currency, payout.amount), links)
    if transition.returns_money:
        payout.settled_at = payout.updated_at
        payout.failure_code = (found.failure_code or ("canceled" if found.status is PspPayoutStatus.CANCELED
                                                       else "failed"))[:100]
        payout.failure_message = (found.failure_message or "")[:500] or None
        payout.failure_balance_transaction_id = found.failure_balance_transaction_id
        _return_money(payout, reverse_transfer=True)
        if transition.after is PayoutStatus.FAILED:
            sellers.bank_account_failed(payout.seller_account_id, payout.psp_bank_account_id)
    log.info("payout %s: %s → %s (%s)", payout.id, transition.before, transition.after, source)
    return f"{transition.after.value}:applied"


def request_syncs(silent_for: timedelta, limit: int = 500) -> int:
    """Ask the PSP about payouts still pending or in transit with no news for `silent_for` (a lost webhook then
    delays a result by at most that long). Caller commits. Returns how many were asked about."""
    cutoff = utcnow() - silent_for
    stale = db.session.scalars(
        select(Payout).where(Payout.status.in_([PayoutStatus.PENDING.value, PayoutStatus.IN_TRANSIT.value]),
                             Payout.psp_payout_id.is_not(None), Payout.updated_at < cutoff)
        .order_by(Payout.updated_at).limit(limit)).all()
    bucket = int(utcnow().timestamp() // max(silent_for.total_seconds(), 1))
    for payout in stale:
        outbox.add(SYNC_TOPIC, f"payout-sync:{payout.id}:{bucket}", {"payout": payout.id})
    return len(stale)
