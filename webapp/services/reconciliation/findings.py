"""Storing a run's findings as the day's mismatches: a re-run of a day replaces that day's findings.

A mismatch is named by its day and a stable key, so a re-run finds the same row: an open one stays open (with the
new evidence), one a person settled (adjusted, accepted) stays settled and is never adjusted twice, one the new run
no longer finds is `cleared`. A timing difference whose counterpart a later run finds on a neighbouring day is
settled (`auto_resolved`) rather than reported again; one still open after RECONCILE_TIMING_ESCALATE_DAYS is
escalated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select, update

from webapp.dbtypes import new_id, utcnow
from webapp.domain.reconciliation import MismatchClass, MismatchStatus
from webapp.extensions import db
from webapp.models import ReconMismatch, ReconRun
from webapp.services import bulk
from webapp.services.reconciliation.matching import Finding

_CHUNK = 500
_FIELDS = ("movement", "balance_transaction_id", "source_id", "ref", "account", "currency", "amount_psp",
           "amount_ours", "fee_psp", "fee_ours", "detail")


def _values(finding: Finding) -> dict:
    values = {name: getattr(finding, name) for name in _FIELDS}
    values["movement"] = finding.movement.value
    values["detail"] = finding.detail[:500]
    values["evidence"] = json.dumps(finding.evidence, sort_keys=True)
    return values


def _timing_counterparts(day: date, findings: list[Finding]) -> dict[tuple[str, str], ReconMismatch]:
    """Open timing mismatches of other days for the same movements as this run's timing findings."""
    wanted = {(f.movement.value, f.source_id or f.ref or "") for f in findings
              if f.class_name is MismatchClass.TIMING}
    found: dict[tuple[str, str], ReconMismatch] = {}
    ids = sorted({name for _, name in wanted})
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for mismatch in db.session.scalars(select(ReconMismatch).where(
                ReconMismatch.class_name == MismatchClass.TIMING.value, ReconMismatch.status == "open",
                ReconMismatch.day != day, or_(ReconMismatch.source_id.in_(chunk), ReconMismatch.ref.in_(chunk)))):
            for name in (mismatch.source_id, mismatch.ref):
                if name and (mismatch.movement, name) in wanted:
                    found[(mismatch.movement, name)] = mismatch
    return found


ITEM_CLASSES = frozenset(MismatchClass) - {MismatchClass.BALANCE_MISMATCH}


def store(run: ReconRun, findings: list[Finding], *, classes: frozenset[MismatchClass] = ITEM_CLASSES
          ) -> dict[str, ReconMismatch]:
    """Upsert the run's findings as its day's mismatches of `classes` (caller commits): open ones of those classes
    the run did not find again are cleared. Returns them by key."""
    now = utcnow()
    day = run.day
    counterparts = _timing_counterparts(day, findings)
    existing = {m.key: m for m in db.session.scalars(select(ReconMismatch).where(ReconMismatch.day == day))}
    fresh: list[dict] = []
    kept: dict[str, ReconMismatch] = {}
    seen: set[str] = set()
    for finding in findings:
        if finding.key in seen:
            continue
        seen.add(finding.key)
        if finding.class_name is MismatchClass.TIMING:
            earlier = counterparts.get((finding.movement.value, finding.source_id or finding.ref or ""))
            if earlier is not None:
                earlier.status, earlier.resolved_at, earlier.updated_at = "auto_resolved", now, now
                earlier.detail = (earlier.detail + f" Counterpart found by the run of {day.isoformat()}.")[:500]
                continue
        mismatch = existing.get(finding.key)
        if mismatch is None:
            fresh.append({"id": None, "day": day, "key": finding.key, "class_name": finding.class_name.value,
                          "status": "open", "run_id": run.id, "escalated": False, "created_at": now,
                          "updated_at": now, **_values(finding)})
            continue
        for name, value in _values(finding).items():
            setattr(mismatch, name, value)
        mismatch.run_id, mismatch.updated_at = run.id, now
        if mismatch.status == MismatchStatus.CLEARED.value:
            mismatch.status, mismatch.resolved_at = MismatchStatus.OPEN.value, None
        kept[finding.key] = mismatch
    if fresh:
        for row in fresh:
            row["id"] = new_id("mis")
        bulk.insert_rows(ReconMismatch, fresh)
    scope = {c.value for c in classes}
    gone = [m for key, m in existing.items() if key not in seen and m.status == MismatchStatus.OPEN.value
            and m.class_name in scope]
    for mismatch in gone:
        mismatch.status, mismatch.resolved_at, mismatch.updated_at = MismatchStatus.CLEARED.value, now, now
    db.session.flush()
    return by_keys(day, seen)


def by_keys(day: date, keys: Iterable[str]) -> dict[str, ReconMismatch]:
    ordered = sorted(keys)
    found: dict[str, ReconMismatch] = {}
    for start in range(0, len(ordered), _CHUNK):
        for mismatch in db.session.scalars(select(ReconMismatch).where(
                ReconMismatch.day == day, ReconMismatch.key.in_(ordered[start:start + _CHUNK]))):
            found[mismatch.key] = mismatch
    return found


def escalate(today: date, after_days: int) -> int:
    """Escalate timing differences still open `after_days` after their day (caller commits)."""
    result = db.session.execute(update(ReconMismatch).where(and_(
        ReconMismatch.class_name == MismatchClass.TIMING.value, ReconMismatch.status == "open",
        ReconMismatch.escalated.is_(False), ReconMismatch.day <= today - timedelta(days=after_days)))
        .values(escalated=True, updated_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def open_count(day: date) -> int:
    return int(db.session.scalar(select(func.count()).select_from(ReconMismatch).where(
        ReconMismatch.day == day, ReconMismatch.status == MismatchStatus.OPEN.value)) or 0)
