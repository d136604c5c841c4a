"""What the admin's reconciliation pages read: runs, the queue of open mismatches with their age, one mismatch with
its evidence and audit trail. Queries only; the views render them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from webapp.dbtypes import utcnow
from webapp.domain.reconciliation import MismatchClass, MismatchStatus
from webapp.extensions import db
from webapp.models import LedgerEntry, ReconAction, ReconMismatch, ReconRun
from webapp.services.reconciliation import audit

CLASSES = [c.value for c in MismatchClass]
STATUSES = [s.value for s in MismatchStatus]


@dataclass(frozen=True)
class RunRow:
    run: ReconRun
    counts: dict[str, int]


def recent_runs(limit: int = 50) -> list[RunRow]:
    found = db.session.scalars(select(ReconRun).order_by(ReconRun.started_at.desc()).limit(limit))
    return [RunRow(run, json.loads(run.counts or "{}")) for run in found]


def open_by_class() -> dict[str, int]:
    return {name: int(count) for name, count in db.session.execute(
        select(ReconMismatch.class_name, func.count()).where(ReconMismatch.status == "open")
        .group_by(ReconMismatch.class_name))}


def run_mismatches(run: ReconRun, status: str | None = None, class_name: str | None = None,
                   limit: int = 500) -> list[ReconMismatch]:
    """The mismatches of the run's day that this run found (or settled), the queue of that day."""
    query = select(ReconMismatch).where(ReconMismatch.day == run.day, ReconMismatch.run_id == run.id)
    if status:
        query = query.where(ReconMismatch.status == status)
    if class_name:
        query = query.where(ReconMismatch.class_name == class_name)
    return list(db.session.scalars(query.order_by(ReconMismatch.status.desc(), ReconMismatch.class_name,
                                                  ReconMismatch.key).limit(limit)))


@dataclass(frozen=True)
class MismatchView:
    mismatch: ReconMismatch
    psp: dict | None
    ours: dict | None
    age_days: int
    trail: list[ReconAction]
    entry: LedgerEntry | None


def mismatch_view(mismatch: ReconMismatch) -> MismatchView:
    evidence = json.loads(mismatch.evidence or "{}")
    age = (utcnow().date() - mismatch.day).days if isinstance(mismatch.day, date) else 0
    entry = db.session.get(LedgerEntry, mismatch.entry_id) if mismatch.entry_id else None
    return MismatchView(mismatch, evidence.get("psp"), evidence.get("ours"), age, audit.trail(mismatch.id), entry)
