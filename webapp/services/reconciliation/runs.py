"""Reconciling one UTC day: import the settlement data (files, or report runs fetched from the PSP), stage our side,
match, store the findings as the day's mismatches, fix what is safe, and record the run.

Each step owns a short transaction; PSP calls happen outside any. A run that fails is recorded `failed` with its
error, and the day's mismatches are left as the last successful run stored them.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, text

from webapp.dbtypes import utcnow
from webapp.domain.reconciliation import DAY_SECONDS, MismatchClass, MismatchStatus, RunSource, RunStatus, day_bounds
from webapp.extensions import db
from webapp.models import ReconImport, ReconMismatch, ReconRun, ReconRunImport
from webapp.services.reconciliation import autofix, balances, findings, ours, settlement
from webapp.services.reconciliation.matching import Finding, match

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


@dataclass
class RunResult:
    run: ReconRun
    mismatches: list[ReconMismatch] = field(default_factory=list)  # every one this run found

    @property
    def open(self) -> int:
        return self.run.open_count


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


def start(day: date, source: RunSource, triggered_by: str) -> ReconRun:
    """Record a run as started (commits), so pages show it while it works."""
    run = ReconRun(day=day, source=source.value, status=RunStatus.RUNNING.value, triggered_by=triggered_by[:255],
                   counts="{}")
    db.session.add(run)
    db.session.commit()
    return run


def run_day(day: date, *, files: Sequence[tuple[Path, str]] = (), triggered_by: str = "cli",
            progress: Progress | None = None, run: ReconRun | None = None) -> RunResult:
    """Reconcile `day` against `files` ((path, name) pairs) or, without files, the PSP's report runs of that day.
    `run`: one recorded by `start()` already (a page that shows it at once)."""
    notify = progress or _quiet
    source = RunSource.FILE if files else RunSource.PSP
    run = run or start(day, source, triggered_by)
    began = time.monotonic()
    try:
        imports = _import(run, day, files, notify)
        found = _match(run, day, {i.report for i in imports}, notify=notify)
        notify("resolving", 0, None)
        autofix.resolve(day, found)
        if source is RunSource.PSP:  # balances are the PSP's now: compared after the fixes
            notify("balances", 0, None)
            found += _balances(run)
        result = _finish(run, found, began)
        notify("done", run.rows, run.rows)
        return result
    except Exception as exc:
        db.session.rollback()
        failed = db.session.get(ReconRun, run.id)
        if failed is not None:
            failed.status, failed.error = RunStatus.FAILED.value, f"{type(exc).__name__}: {exc}"[:500]
            failed.finished_at, failed.duration_ms = utcnow(), int((time.monotonic() - began) * 1000)
            ours.clear(run.id)
            db.session.commit()
        raise


def _import(run: ReconRun, day: date, files: Sequence[tuple[Path, str]], notify: Progress) -> list[ReconImport]:
    if files:
        pairs = [(path, name, RunSource.FILE) for path, name in files]
        return _import_files(run, pairs, notify)
    from webapp.services.reconciliation import fetch

    with fetch.reports(day, notify) as downloaded:
        return _import_files(run, [(path, name, RunSource.PSP) for path, name in downloaded], notify)


def _import_files(run: ReconRun, files: Sequence[tuple[Path, str, RunSource]], notify: Progress) -> list[ReconImport]:
    imported = []
    for path, name, source in files:
        notify("importing", 0, None)
        _bulk_statements()
        done = settlement.import_file(path, source=source, name=name,
                                      progress=lambda count: notify("importing", count, None))
        db.session.merge(ReconRunImport(run_id=run.id, import_id=done.id))
        db.session.commit()
        found = db.session.get(ReconImport, done.id)
        assert found is not None
        imported.append(found)
    return imported


def _match(run: ReconRun, day: date, reports: set[str], *, notify: Progress) -> list[Finding]:
    start, end = day_bounds(day)
    notify("matching", 0, None)
    _bulk_statements()
    _analyze("recon_rows")
    ours.stage(run.id, datetime.fromtimestamp(start - DAY_SECONDS, UTC), datetime.fromtimestamp(end + DAY_SECONDS, UTC))
    _analyze("recon_ours")
    matched = match(run.id, day, reports)
    found = matched.findings
    run = db.session.get(ReconRun, run.id) or run
    findings.store(run, found)
    findings.escalate(day, int(current_app.config["RECONCILE_TIMING_ESCALATE_DAYS"]))
    ours.clear(run.id)
    run.rows, run.matched, run.skipped = matched.rows, matched.matched, matched.skipped
    db.session.commit()
    return found


# PostgreSQL settings for a run's transactions, which join and aggregate a day's million rows at once: memory for
# its hash joins and aggregates to stay off disk, and no JIT compilation (which costs a second or two per statement
# and buys nothing for statements that are one pass over their rows).
BULK_SETTINGS = ("SET LOCAL work_mem = '128MB'", "SET LOCAL jit = off")


def _bulk_statements() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        for statement in BULK_SETTINGS:
            db.session.execute(text(statement))


def _analyze(table: str) -> None:
    """Fresh statistics for a table a run just filled, so PostgreSQL plans its joins as hash joins over the
    real number of rows rather than nested loops over the few it last saw."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"ANALYZE {table}"))


def _balances(run: ReconRun) -> list[Finding]:
    open_items = list(db.session.scalars(select(ReconMismatch).where(
        ReconMismatch.day == run.day, ReconMismatch.status == MismatchStatus.OPEN.value,
        ReconMismatch.class_name.in_(balances.EXPLAINING))))
    found = balances.compare(open_items)
    run = db.session.get(ReconRun, run.id) or run
    findings.store(run, found, classes=frozenset({MismatchClass.BALANCE_MISMATCH}))
    db.session.commit()
    return found


def _finish(run: ReconRun, found: list[Finding], began: float) -> RunResult:
    run = db.session.get(ReconRun, run.id) or run
    keys = sorted({f.key for f in found})
    mismatches = list(findings.by_keys(run.day, keys).values())
    mismatches.sort(key=lambda m: (m.class_name, m.key))
    run.counts = json.dumps(dict(sorted(Counter(m.class_name for m in mismatches).items())))
    run.open_count = findings.open_count(run.day)
    run.status, run.finished_at = RunStatus.SUCCEEDED.value, utcnow()
    run.duration_ms = int((time.monotonic() - began) * 1000)
    db.session.commit()
    return RunResult(run, mismatches)


def latest(day: date) -> ReconRun | None:
    return db.session.scalar(select(ReconRun).where(ReconRun.day == day, ReconRun.status == "succeeded")
                             .order_by(ReconRun.started_at.desc()).limit(1))


def stored(day: date) -> RunResult | None:
    """The day's last successful run with the mismatches it found (their current status)."""
    run = latest(day)
    if run is None:
        return None
    mismatches = list(db.session.scalars(select(ReconMismatch).where(
        ReconMismatch.day == day, ReconMismatch.run_id == run.id).order_by(ReconMismatch.class_name,
                                                                            ReconMismatch.key)))
    return RunResult(run, mismatches)


def as_json(result: RunResult) -> dict:
    """The command line's `--json` object: the day, its source, counts and every mismatch the run found."""
    run = result.run
    return {"date": run.day.isoformat(), "source": run.source, "run": run.id, "status": run.status,
            "rows": run.rows, "matched": run.matched, "open": run.open_count,
            "mismatches": [{"class": m.class_name, "status": m.status, "balance_transaction_id":
                            m.balance_transaction_id, "source_id": m.source_id, "amount_psp": m.amount_psp,
                            "amount_ours": m.amount_ours, "currency": m.currency, "detail": m.detail,
                            "movement": m.movement, "escalated": m.escalated}
                           for m in result.mismatches]}


def previous_day(now: datetime | None = None) -> date:
    return ((now or utcnow()).astimezone(UTC) - timedelta(days=1)).date()


__all__ = ["MismatchStatus", "Progress", "RunResult", "as_json", "latest", "previous_day", "run_day", "start",
           "stored"]
