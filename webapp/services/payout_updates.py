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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from webapp.dbtypes import utcnow
from webapp.domain import ledger_payouts as payout_rules
from webapp.domain.payouts import PayoutStatus, next_payout_status
from webapp.domain.polling import next_poll_after
from webapp.extensions import db
from webapp.models import Payout, PayoutItem
from webapp.ops import metrics_flow
from webapp.ops.metrics_flow import Flow
from webapp.psp import PspPayout, PspPayoutStatus
from webapp.services import ledger, outbox, sellers, webhook_events
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
    status = PayoutStatus(payout.status)
    if status in (PayoutStatus.CANCELED, PayoutStatus.FAILED):  # ended meanwhile: the transfer goes back
        outbox.add(REVERSE_TOPIC, f"payout-reverse:{payout.id}", {"payout": payout.id})
    elif status is PayoutStatus.PENDING and submit:
        outbox.add(SUBMIT_TOPIC, f"payout-submit:{payout.id}", {"payout": payout.id})


@dataclass(frozen=True)
class Sent:
    """The PSP's answer to a payout's transfer and payout calls made together."""

    payout_id: str
    transfer_id: str
    payout: PspPayout


def _arrival(found: PspPayout) -> date | None:
    return datetime.fromtimestamp(found.arrival_date, UTC).date() if found.arrival_date else None


def sent_together(answers: Sequence[Sent]) -> set[str]:
    """Record a batch of the usual answer — transfer made, payout created and still `pending` at the PSP, for a
    payout of ours still pending with neither recorded — in four statements whatever the batch's size (caller
    commits): lock the payouts (skipping any another transaction holds: this never waits, so it never deadlocks),
    record both PSP ids, book the transfers, and nothing else (a `pending` payout changes no status). Returns the
    payouts recorded; any other answer, and a skipped payout, is for `transferred` + `apply_psp_payout`."""
    usual = {a.payout_id: a for a in answers if a.payout.status is PspPayoutStatus.PENDING}
    if not usual:
        return set()
    rows = db.session.execute(
        select(Payout.id, Payout.status, Payout.psp_transfer_id, Payout.psp_payout_id, Payout.currency, Payout.amount)
        .where(Payout.id.in_(usual)).order_by(Payout.id).with_for_update(skip_locked=True)).all()
    fresh = [r for r in rows if PayoutStatus(r.status) is PayoutStatus.PENDING
             and r.psp_transfer_id is None and r.psp_payout_id is None]
    if not fresh:
        return set()
    now = utcnow()
    db.session.execute(update(Payout), [
        {"id": r.id, "psp_transfer_id": usual[r.id].transfer_id, "psp_payout_id": usual[r.id].payout.id,
         "arrival_date": _arrival(usual[r.id].payout), "updated_at": now} for r in fresh])
    ledger.post_many([(payout_rules.payout_transferred(r.id, r.currency, r.amount), Links(payout_id=r.id))
                      for r in fresh])
    return {r.id for r in fresh}


def refused(payout_id: str, code: str | None, message: str) -> None:
    """The PSP refused the transfer or the payout itself (caller commits): the payout fails and its money comes
    back; a transfer already made is reversed."""
    payout = lock(payout_id)
    if payout is None or PayoutStatus(payout.status) is not PayoutStatus.PENDING:
        return
    payout.status = (PayoutStatus.FAILED if payout.psp_transfer_id else PayoutStatus.CANCELED).value
    metrics_flow.reached(Flow.PAYOUT, payout.id, payout.status, payout.currency, payout.amount)
    payout.failure_code, payout.failure_message = (code or "refused")[:100], message[:500]
    payout.updated_at = payout.settled_at = utcnow()
    _return_money(payout, reverse_transfer=True)
    webhook_events.payout_changed(payout)


def reversed_(payout_id: str, reversal_id: str) -> None:
    """The transfer of a payout that did not reach the bank is back on the platform's balance (caller commits)."""
    payout = lock(payout_id)
    if payout is None or payout.psp_reversal_id:
        return
    payout.psp_reversal_id, payout.updated_at = reversal_id, utcnow()
    ledger.post(payout_rules.payout_reversed(payout.id, payout.currency, payout.amount), Links(payout_id=payout.id))


def apply_psp_payout(found: PspPayout, *, source: str, answer: bool = False) -> str:
    """Apply what the PSP says about one of our payouts (caller commits): its news, or with `answer` its answer
    to our own call, which is always recorded. Returns what happened."""
    payout_id = found.metadata.get("payout_id")
    seen = db.session.execute(select(Payout.id, Payout.status, Payout.psp_payout_id).where(
        (Payout.psp_payout_id == found.id) | (Payout.id == (payout_id or "")))).first()
    known = seen is not None and (seen.psp_payout_id == found.id or (seen.psp_payout_id is None and not answer))
    status = PayoutStatus(seen.status) if seen is not None else None
    if known and status is not None and not next_payout_status(status, PayoutStatus(found.status.value)).changed:
        # Nothing to change (a payout's first `pending` news, a repeat): no row lock, so news never waits for the
        # payout run's batches that hold it, nor takes locks in an order of its own. A payout created but not yet
        # recorded is recorded by the job that created it (it retries until it has).
        return f"{found.status.value}:no_change"
    payout = lock(seen.id) if seen is not None else None
    if payout is None:
        return "unknown_payout"
    if payout.psp_payout_id is None:
        payout.psp_payout_id = found.id  # the news arrived before the job that created it recorded it
    elif payout.psp_payout_id != found.id:
        return "other_psp_payout"
    if found.arrival_date:
        payout.arrival_date = _arrival(found)
    transition = next_payout_status(PayoutStatus(payout.status), PayoutStatus(found.status.value))
    if not transition.changed:
        return f"{found.status.value}:no_change"
    payout.status, payout.updated_at = transition.after.value, utcnow()
    metrics_flow.reached(Flow.PAYOUT, payout.id, payout.status, payout.currency, payout.amount)
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
    webhook_events.payout_changed(payout)
    log.info("payout %s: %s → %s (%s)", payout.id, transition.before, transition.after, source)
    return f"{transition.after.value}:applied"


def request_syncs(silent_for: timedelta, ceiling: timedelta, limit: int = 500) -> int:
    """Ask the PSP about payouts still pending or in transit with no news for `silent_for` (a lost webhook then
    delays a result by about that long); one that stays quiet is asked about less and less often, at most
    `ceiling` apart (webapp.domain.polling). Caller commits. Returns how many were asked about."""
    now = utcnow()
    stale = db.session.scalars(
        select(Payout).where(Payout.status.in_([PayoutStatus.PENDING.value, PayoutStatus.IN_TRANSIT.value]),
                             Payout.psp_payout_id.is_not(None), Payout.updated_at < now - silent_for,
                             Payout.sync_due_at.is_(None) | (Payout.sync_due_at <= now))
        .order_by(Payout.updated_at).limit(limit)).all()
    bucket = int(now.timestamp() // max(silent_for.total_seconds(), 1))
    for payout in stale:
        outbox.add(SYNC_TOPIC, f"payout-sync:{payout.id}:{bucket}", {"payout": payout.id})
        payout.sync_due_at = now + next_poll_after(now - payout.updated_at, silent_for, ceiling)
    return len(stale)
