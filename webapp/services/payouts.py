"""Paying sellers: the payout run and reserving payouts from the wallets (what follows: payout_updates).

A payout goes, per seller and schedule period, in this order (each step idempotent, keyed by the payout row):

1. `reserve()` — under the seller's row lock: one payout row (unique per seller, currency and period, so two
   overlapping runs cannot pay a seller twice), its statement lines (the wallet's unsettled balance changes), and
   the journal entry wallet available → payouts in transit; an outbox row asks for the transfer.
2. `payouts.transfer` (payout_jobs) — a transfer platform → the seller's connected account (idempotency key
   `payout-transfer-<id>`); booked platform balance → sellers' PSP balances.
3. in the same step, a payout on the connected account to its bank (`payout-<id>`); retried alone by
   `payouts.submit` if that call failed.
4. `payout_updates.apply_psp_payout()` — the PSP's news moves the payout to paid, failed or canceled.

Lock order, shared with every writer: seller row, then payout row, then ledger accounts (at commit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.dbtypes import new_id, utcnow
from webapp.domain import ledger as rules
from webapp.domain import ledger_payouts as payout_rules
from webapp.domain.errors import NotFound, ValidationError
from webapp.domain.payouts import (
    PAUSED_WORDS,
    AccountState,
    BankAccountStatus,
    Interval,
    PausedReason,
    PayoutStatus,
    manual_period,
    paused_reason,
    payout_amount,
    period_of,
)
from webapp.domain.wallets import Funds
from webapp.extensions import db
from webapp.models import Payout, SellerAccount
from webapp.ops import metrics_flow
from webapp.ops.metrics_flow import Flow
from webapp.services import audit, ledger, outbox, payout_items, sellers
from webapp.services.ledger import Links

log = logging.getLogger(__name__)

TRANSFER_TOPIC = "payouts.transfer"
SUBMIT_TOPIC = "payouts.submit"
REVERSE_TOPIC = "payouts.reverse"
SYNC_TOPIC = "payouts.sync"
RUN_CHUNK = 200


class PayoutRefused(ValidationError):
    """A payout asked for now cannot be made; `code` says why (a PausedReason, or nothing_to_pay_out)."""

    code = "payout_not_possible"


@dataclass
class RunResult:
    day: date
    due: int = 0
    created: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def due_sellers(day: date, seller_id: str | None = None) -> list[tuple[str, str]]:
    """(seller id, period) of every seller whose schedule pays on `day` and whose account can be paid out."""
    query = select(SellerAccount).where(SellerAccount.psp_account_id.is_not(None),
                                        SellerAccount.payout_interval != Interval.MANUAL.value)
    if seller_id is not None:
        query = query.where(SellerAccount.id == seller_id)
    due = []
    for seller in db.session.scalars(query.order_by(SellerAccount.id)):
        period = period_of(sellers.schedule_of(seller), day)
        if period is not None:
            due.append((seller.id, period))
    db.session.rollback()
    return due


@dataclass(frozen=True)
class Due:
    """A seller to pay for a schedule period (`payout_id` chosen in advance for a payout asked for now)."""

    seller_id: str
    period: str
    payout_id: str | None = None


def run(day: date, *, seller_id: str | None = None, source: str = "schedule", actor: audit.Actor | None = None
        ) -> RunResult:
    """Pay every seller due on `day` (or only `seller_id`): one payout each, at most one per schedule period, in
    transactions of RUN_CHUNK sellers. Safe to run again or concurrently: a period already paid is skipped. The run
    is audited (as `actor`, by default whoever the current request is, else `system`)."""
    result = RunResult(day)
    due = [Due(seller, period) for seller, period in due_sellers(day, seller_id)]
    result.due = len(due)
    for start in range(0, len(due), RUN_CHUNK):
        for outcome in _reserve_chunk(due[start:start + RUN_CHUNK], cutoff=_end_of(day), source=source):
            if isinstance(outcome, Payout):
                result.created.append(outcome.id)
            else:
                result.skip(outcome)
        db.session.commit()
    audit.note("payout.run", "payout_run", day.isoformat(),
               {"source": source, "seller": seller_id, "due": result.due, "created": len(result.created),
                "skipped": result.skipped}, actor=actor)
    db.session.commit()
    return result


def _reserve_chunk(due: list[Due], **kwargs) -> list[Payout | str]:
    """`reserve()` for a chunk; if a concurrent run paid one of its periods first (the payout's unique (seller,
    currency, period) is the guarantee, the seller locks only make it rare), the chunk goes again one by one."""
    try:
        with db.session.begin_nested():
            return list(reserve(due, **kwargs).values())
    except IntegrityError:
        outcomes: list[Payout | str] = []
        for one in due:
            try:
                with db.session.begin_nested():
                    outcomes += list(reserve([one], **kwargs).values())
            except IntegrityError:
                outcomes.append("already_paid_for_period")
        return outcomes


def pay_now(merchant_id: str, seller_id: str, *, source: str, commit: bool = True,
            actor: audit.Actor | None = None) -> Payout:
    """Pay out a seller's available balance now (manual schedules, the portal's button, POST /v1/payouts, an
    admin's retry). Commits (unless told not to: the API commits it with its idempotent answer); raises
    PayoutRefused with the reason when nothing can be paid. A seller on a schedule may be paid early: its next
    run pays only what became available since."""
    seller = db.session.get(SellerAccount, seller_id)
    if seller is None or seller.merchant_id != merchant_id:
        raise NotFound(f"No such seller account: {seller_id!r}.", param="seller_account")
    payout_id = new_id("pyt")
    cutoff = utcnow() - timedelta(days=seller.payout_delay_days)
    (outcome,) = _reserve_chunk([Due(seller_id, manual_period(payout_id), payout_id)], cutoff=cutoff, source=source)
    if not isinstance(outcome, Payout):
        db.session.rollback()
        raise PayoutRefused(_refusal_message(outcome), param="seller_account", code=outcome)
    audit.note("payout.pay_now", "payout", outcome.id, {"seller": seller_id, "merchant": merchant_id,
               "amount": outcome.amount, "currency": outcome.currency, "source": source}, actor=actor)
    if commit:
        db.session.commit()
    return outcome


def _refusal_message(reason: str) -> str:
    if reason == "nothing_to_pay_out":
        return "The seller's available balance is zero: there is nothing to pay out."
    if reason == "already_paid_for_period":
        return "This seller was already paid for this period."
    try:
        return PAUSED_WORDS[PausedReason(reason)]
    except ValueError:
        return f"Payouts are not possible now ({reason})."


def reserve(due: list[Due], *, cutoff: datetime, source: str) -> dict[str, Payout | str]:
    """Create each seller's payout for its period from its balance changes up to `cutoff`, set-based for the
    whole list (caller commits). Returns, per seller, its payout or why there is none."""
    ids = sorted({d.seller_id for d in due})
    sellers = {s.id: s for s in db.session.scalars(
        select(SellerAccount).where(SellerAccount.id.in_(ids)).order_by(SellerAccount.id).with_for_update()
        .execution_options(populate_existing=True))}
    taken = {(seller, currency, period) for seller, currency, period in db.session.execute(
        select(Payout.seller_account_id, Payout.currency, Payout.period)
        .where(Payout.seller_account_id.in_(ids), Payout.period.in_({d.period for d in due})))}
    outcomes: dict[str, Payout | str] = {}
    candidates: list[tuple[Due, SellerAccount]] = []
    for one in due:
        seller = sellers.get(one.seller_id)
        if seller is None or seller.psp_account_id is None:
            outcomes[one.seller_id] = PausedReason.ONBOARDING.value
        elif (seller.id, seller.currency, one.period) in taken:
            outcomes[one.seller_id] = "already_paid_for_period"
        else:
            candidates.append((one, seller))
    wallets = {seller.id: rules.wallet(seller.id, Funds.AVAILABLE, seller.currency) for _, seller in candidates}
    balances = ledger.lock(wallets.values()) if wallets else {}
    lines = payout_items.unsettled({seller.id: seller.currency for _, seller in candidates}, cutoff)
    now = utcnow()
    created: list[Payout] = []
    for one, seller in candidates:
        outcome = _payout_for(one, seller, balances[wallets[seller.id].code], lines[seller.id], source, now)
        outcomes[seller.id] = outcome
        if isinstance(outcome, Payout):
            created.append(outcome)
    if created:
        db.session.add_all(created)
        db.session.flush()
        payout_items.record([(p.id, p.seller_account_id, lines[p.seller_account_id]) for p in created])
        ledger.post_many([(payout_rules.payout_reserved(p.id, p.seller_account_id, p.currency, p.amount),
                           Links(payout_id=p.id)) for p in created])
        outbox.add_many(TRANSFER_TOPIC, [(f"payout-transfer:{p.id}", {"payout": p.id}) for p in created])
        for p in created:
            metrics_flow.reached(Flow.PAYOUT, p.id, p.status, p.currency, p.amount)
    return outcomes


def _payout_for(due: Due, seller: SellerAccount, balance: int, lines: list[payout_items.Line], source: str,
                now: datetime) -> Payout | str:
    settles = sum(line.amount for line in lines)
    reason = paused_reason(state=AccountState(seller.account_state), bank=BankAccountStatus(seller.bank_account_status),
                           available=min(balance, settles), minimum=seller.minimum_payout_minor)
    if reason is not None:
        return reason.value
    if settles > balance:
        log.error("seller %s: unsettled lines sum to %s but the wallet holds %s; not paying out", seller.id, settles,
                  balance)
        return "ledger_mismatch"
    amount = payout_amount(settles, seller.minimum_payout_minor)
    if amount is None:
        return "nothing_to_pay_out"
    assert seller.psp_account_id is not None
    return Payout(id=due.payout_id or new_id("pyt"), merchant_id=seller.merchant_id, seller_account_id=seller.id,
                  currency=seller.currency, amount=amount, period=due.period, source=source,
                  status=PayoutStatus.PENDING.value, psp_account_id=seller.psp_account_id,
                  psp_bank_account_id=seller.bank_account_psp_id, created_at=now, updated_at=now)
