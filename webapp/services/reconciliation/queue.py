"""The admin queue's actions on a mismatch, each in its own transaction and each in the audit trail:

- take (become its owner);
- re-fetch from the PSP (a charge's or refund's news, applied through the normal event path, as the run's own fixes);
- post an adjusting entry to the suspense or the PSP-fee account, with a required note: a real journal entry, keyed by
  the mismatch, so it can be posted once only (a re-run never doubles it);
- accept / write off, with a note;
- reopen a settled one (an adjustment stays posted: reversing it is another adjusting entry).
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.domain import ledger as rules
from webapp.domain import ledger_adjustments as adjustments
from webapp.domain.errors import Conflict, NotFound, ValidationError
from webapp.domain.reconciliation import AdjustTarget, MismatchClass, MismatchStatus, Movement
from webapp.extensions import db
from webapp.models import LedgerEntry, ReconMismatch
from webapp.services import ledger
from webapp.services.reconciliation import audit, autofix
from webapp.services.reconciliation.matching import Finding

_TARGETS = {AdjustTarget.SUSPENSE: rules.AccountKind.SUSPENSE, AdjustTarget.PSP_FEES: rules.AccountKind.PSP_FEES}


def get(mismatch_id: str) -> ReconMismatch:
    found = db.session.get(ReconMismatch, mismatch_id)
    if found is None:
        raise NotFound(f"No such mismatch: {mismatch_id!r}.")
    return found


def _locked(mismatch_id: str) -> ReconMismatch:
    found = db.session.scalar(select(ReconMismatch).where(ReconMismatch.id == mismatch_id).with_for_update()
                              .execution_options(populate_existing=True))
    if found is None:
        raise NotFound(f"No such mismatch: {mismatch_id!r}.")
    return found


def _note(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        raise ValidationError("A note is required: say why.", param="note")
    return text[:300]


def take(mismatch_id: str, actor: str) -> ReconMismatch:
    mismatch = _locked(mismatch_id)
    before = audit.snapshot(mismatch)
    mismatch.owner, mismatch.updated_at = actor[:255], utcnow()
    audit.record(mismatch, actor=actor, action="take", before=before)
    db.session.commit()
    return mismatch


def suggested_delta(mismatch: ReconMismatch) -> int:
    """What an adjustment would move on the PSP balance: the PSP's side minus ours, net of fees."""
    psp = (mismatch.amount_psp or 0) - (mismatch.fee_psp or 0)
    ours = (mismatch.amount_ours or 0) - (mismatch.fee_ours or 0)
    return psp - ours


def adjust(mismatch_id: str, actor: str, target: AdjustTarget, amount_minor: int | None, note: str | None
           ) -> ReconMismatch:
    """Post an adjusting entry for an open mismatch (`amount_minor`: the change of the PSP balance, signed; None:
    the suggested difference) and mark it adjusted."""
    text = _note(note)
    mismatch = _locked(mismatch_id)
    if mismatch.status != MismatchStatus.OPEN.value:
        raise Conflict(f"Mismatch {mismatch.id} is {mismatch.status}; only open mismatches can be adjusted.")
    if mismatch.currency is None:
        raise ValidationError("This mismatch has no currency to adjust in.")
    delta = suggested_delta(mismatch) if amount_minor is None else amount_minor
    if delta == 0:
        raise ValidationError("The adjustment would move nothing: give the amount.", param="amount")
    before = audit.snapshot(mismatch)
    memo = f"Reconciliation {mismatch.day.isoformat()} {mismatch.class_name} {mismatch.source_id or ''}: {text}"
    entry = adjustments.adjustment(f"adjustment:{mismatch.id}", mismatch.currency, delta, _TARGETS[target], memo[:300])
    posted = ledger.post(entry)
    if posted is None:  # posted before (a double submit): the entry exists once, keyed by the mismatch
        posted = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.key == entry.key))
    mismatch.status, mismatch.entry_id = MismatchStatus.ADJUSTED.value, posted
    mismatch.resolved_at = mismatch.updated_at = utcnow()
    mismatch.owner = mismatch.owner or actor[:255]
    audit.record(mismatch, actor=actor, action="adjust", before=before,
                 note=f"{text} ({target.value}, {delta:+d} minor units)")
    db.session.commit()
    return mismatch


def accept(mismatch_id: str, actor: str, note: str | None) -> ReconMismatch:
    """Accept (write off) an open difference: nothing is posted."""
    text = _note(note)
    mismatch = _locked(mismatch_id)
    if mismatch.status != MismatchStatus.OPEN.value:
        raise Conflict(f"Mismatch {mismatch.id} is {mismatch.status}; only open mismatches can be accepted.")
    before = audit.snapshot(mismatch)
    mismatch.status, mismatch.resolved_at, mismatch.updated_at = MismatchStatus.ACCEPTED.value, utcnow(), utcnow()
    mismatch.owner = mismatch.owner or actor[:255]
    audit.record(mismatch, actor=actor, action="accept", before=before, note=text)
    db.session.commit()
    return mismatch


def reopen(mismatch_id: str, actor: str, note: str | None) -> ReconMismatch:
    text = _note(note)
    mismatch = _locked(mismatch_id)
    if mismatch.status == MismatchStatus.OPEN.value:
        raise Conflict(f"Mismatch {mismatch.id} is open already.")
    before = audit.snapshot(mismatch)
    mismatch.status, mismatch.resolved_at, mismatch.updated_at = MismatchStatus.OPEN.value, None, utcnow()
    audit.record(mismatch, actor=actor, action="reopen", before=before, note=text)
    db.session.commit()
    return mismatch


def refetch(mismatch_id: str, actor: str) -> ReconMismatch:
    """Ask the PSP again about a charge or refund and apply the answer through the normal event path; the mismatch
    is resolved when the books then hold the movement (auto-fixable differences), else it stays as it was."""
    mismatch = get(mismatch_id)
    movement = Movement(mismatch.movement)
    if movement not in (Movement.CHARGE, Movement.REFUND, Movement.REFUND_FAILURE):
        raise ValidationError(f"Re-fetching applies to charges and refunds, not to a {movement.value}.")
    finding = Finding(MismatchClass.MISSING_IN_LEDGER, movement, mismatch.key, source_id=mismatch.source_id,
                      ref=mismatch.ref, currency=mismatch.currency)
    before = audit.snapshot(mismatch)
    fixed = autofix.refetch(mismatch.id, finding, actor=actor)
    mismatch = get(mismatch_id)
    if not fixed:
        audit.record(mismatch, actor=actor, action="refetch", before=before,
                     note="Fetched from the PSP; the books still lack the movement.")
        db.session.commit()
    return mismatch


def queue(status: str | None = "open", day=None, class_name: str | None = None, limit: int = 200
          ) -> list[ReconMismatch]:
    query = select(ReconMismatch)
    if status:
        query = query.where(ReconMismatch.status == status)
    if day is not None:
        query = query.where(ReconMismatch.day == day)
    if class_name:
        query = query.where(ReconMismatch.class_name == class_name)
    return list(db.session.scalars(query.order_by(ReconMismatch.day, ReconMismatch.created_at).limit(limit)))
