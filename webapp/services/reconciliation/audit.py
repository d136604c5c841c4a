"""The audit trail of the mismatch queue: every change of a mismatch, by a person or by a run, with who, when,
what, and the mismatch's state before and after."""

from __future__ import annotations

import json

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ReconAction, ReconMismatch
from webapp.services import audit as audit_log

_STATE = ("status", "class_name", "owner", "amount_psp", "amount_ours", "fee_psp", "fee_ours", "currency",
          "entry_id", "escalated")


def snapshot(mismatch: ReconMismatch) -> dict:
    """The parts of a mismatch an action can change, for its before/after."""
    return {name: getattr(mismatch, name) for name in _STATE}


def record(mismatch: ReconMismatch, *, actor: str, action: str, before: dict, note: str = "") -> ReconAction:
    """Add an audit row for `action` on `mismatch` (caller commits), after the change was made."""
    row = ReconAction(mismatch_id=mismatch.id, actor=actor[:255], action=action, note=note[:500],
                      before=json.dumps(before, sort_keys=True, default=str),
                      after=json.dumps(snapshot(mismatch), sort_keys=True, default=str))
    db.session.add(row)
    audit_log.note(f"reconciliation.{action}", "mismatch", mismatch.id,
                   {"before": before, "after": snapshot(mismatch), "note": note[:500], "day": mismatch.day},
                   actor=audit_log.Actor(actor, audit_log.current_actor().ip))
    return row


def trail(mismatch_id: str) -> list[ReconAction]:
    return list(db.session.scalars(select(ReconAction).where(ReconAction.mismatch_id == mismatch_id)
                                   .order_by(ReconAction.id)))
