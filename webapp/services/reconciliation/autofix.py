"""What a run fixes by itself: a charge or a refund the PSP reports and our books lack because its webhook was lost.

The PSP is asked again (the checkout's Checkout Session; the PaymentIntent's refunds) and the answer is applied by
the very services the inbox uses (`checkout.apply_session`, `refunds.apply_psp_refund`): idempotent and
forward-only, so a fix can never double a posting or move money backwards. A mismatch is `auto_resolved` only when
the books then hold the movement; otherwise it stays open for a person. Amounts are never adjusted here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.domain.reconciliation import MismatchStatus, Movement, auto_fixable
from webapp.extensions import db
from webapp.models import LedgerEntry, PaymentEvent, PspCharge, PspSession, ReconMismatch, Refund
from webapp.psp import CheckoutSession, Psp, PspError, PspRefund, call_each, get_psp
from webapp.services import checkout, funds, refunds
from webapp.services.reconciliation import audit, findings
from webapp.services.reconciliation.matching import Finding

log = logging.getLogger(__name__)
SOURCE = "reconciliation"


@dataclass(frozen=True)
class _Plan:
    mismatch_id: str
    movement: Movement
    ref: str                     # our checkout (charges) or refund (refunds)
    session_ids: tuple[str, ...] = ()
    payment_intent_id: str | None = None


def _plans(day: date, found: list[Finding]) -> list[_Plan]:
    fixable = [f for f in found if auto_fixable(f.class_name, f.movement)]
    stored = findings.by_keys(day, {f.key for f in fixable})
    plans = []
    for finding in fixable:
        mismatch = stored.get(finding.key)
        if mismatch is None or mismatch.status != MismatchStatus.OPEN.value:
            continue
        plan = _plan_for(mismatch.id, finding)
        if plan is not None:
            plans.append(plan)
    return plans


def _plan_for(mismatch_id: str, finding: Finding) -> _Plan | None:
    if finding.movement is Movement.CHARGE:
        event_id = finding.ref
        if event_id is None and finding.payment_intent_id:
            event_id = db.session.scalar(select(PspSession.payment_event_id).where(
                PspSession.payment_intent_id == finding.payment_intent_id))
        if event_id is None or db.session.get(PaymentEvent, event_id) is None:
            return None
        sessions = tuple(db.session.scalars(select(PspSession.id).where(PspSession.payment_event_id == event_id)
                                            .order_by(PspSession.attempt.desc())))
        return _Plan(mismatch_id, finding.movement, event_id, session_ids=sessions) if sessions else None
    refund = db.session.get(Refund, finding.ref) if finding.ref else db.session.scalar(
        select(Refund).where(Refund.psp_refund_id == finding.source_id))
    if refund is None:
        return None
    intent = finding.payment_intent_id or db.session.scalar(select(PspCharge.payment_intent_id).where(
        PspCharge.payment_event_id == refund.payment_event_id)) or db.session.scalar(
        select(PspSession.payment_intent_id).where(PspSession.payment_event_id == refund.payment_event_id,
                                                   PspSession.payment_intent_id.is_not(None)))
    return _Plan(mismatch_id, finding.movement, refund.id, payment_intent_id=intent) if intent else None


def _ask(psp: Psp, plan: _Plan) -> list[CheckoutSession] | list[PspRefund] | PspError:
    try:
        if plan.movement is Movement.CHARGE:
            return [psp.retrieve_checkout_session(session_id) for session_id in plan.session_ids]
        assert plan.payment_intent_id is not None
        return psp.list_refunds(plan.payment_intent_id)
    except PspError as exc:
        return exc


def _apply(plan: _Plan, answer: list) -> bool:
    """Apply the PSP's answer through the inbox's services; True when the books now hold the movement."""
    if plan.movement is Movement.CHARGE:
        for snapshot in answer:
            checkout.apply_session(snapshot, source=SOURCE)
        event = db.session.get(PaymentEvent, plan.ref)
        return event is not None and event.status == "SUCCESS"
    for found in sorted(answer, key=lambda r: r.metadata.get("payment_event_id", "")):
        refunds.apply_psp_refund(found, source=SOURCE)
    kind = "refund_paid" if plan.movement is Movement.REFUND else "refund_returned"
    return db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.refund_id == plan.ref,
                                                          LedgerEntry.kind == kind)) is not None


def resolve(day: date, found: list[Finding], psp: Psp | None = None) -> int:
    """Fix the run's auto-fixable findings; returns how many were resolved."""
    return _fix(_plans(day, found), actor=SOURCE, psp=psp)


def refetch(mismatch_id: str, finding: Finding, actor: str, psp: Psp | None = None) -> bool:
    """The queue's "re-fetch from PSP" for one mismatch; True when the books now hold the movement."""
    plan = _plan_for(mismatch_id, finding)
    return plan is not None and _fix([plan], actor=actor, psp=psp) == 1


def _fix(plans: list[_Plan], *, actor: str, psp: Psp | None) -> int:
    db.session.rollback()  # no transaction stays open while the PSP answers
    if not plans:
        return 0
    client = psp or get_psp()
    answers = call_each(plans, lambda plan: _ask(client, plan))
    resolved = 0
    for plan, answer in zip(plans, answers, strict=True):
        if isinstance(answer, PspError):
            log.warning("reconciliation could not ask the PSP about %s: %s", plan.ref, answer.message)
            continue
        try:
            fixed = _apply(plan, answer)
            mismatch = db.session.get(ReconMismatch, plan.mismatch_id)
            if fixed and mismatch is not None and mismatch.status == MismatchStatus.OPEN.value:
                before = audit.snapshot(mismatch)
                mismatch.status, mismatch.resolved_at, mismatch.updated_at = "auto_resolved", utcnow(), utcnow()
                audit.record(mismatch, actor=actor, action="auto_resolve" if actor == SOURCE else "refetch",
                             before=before, note="Fetched from the PSP and applied through the normal event path.")
                resolved += 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("reconciliation could not apply the PSP's answer about %s", plan.ref)
    if any(plan.movement is Movement.CHARGE for plan in plans):
        # A capture applied here asked for its PSP fee, as one applied by the inbox does: book it now, through the
        # fee job's own drain, so the run's balance check sees the charge whole.
        funds.BOOK_FEES.drain()
    return resolved
