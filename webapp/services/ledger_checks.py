"""The scheduled ledger verification: run every check of `flask ledger verify` and keep the result.

Monitoring reads the newest result (paysplit_ledger_verify_ok) instead of verifying at scrape time: a full
verification reads every posting, far too much for a scrape.

On a ledger that is taking payments, a check can catch money between two jobs (a capture booked, its PSP fee
not yet), so a failed verification is repeated after `recheck_seconds`: only checks that fail both times count.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import LedgerVerification
from webapp.services import verification

log = logging.getLogger(__name__)


def _failing(report: verification.Report) -> set[str]:
    return {check for check, violations in report.by_check().items() if violations}


def verify_and_record(recheck_seconds: float = 60) -> LedgerVerification:
    """Verify the ledger and store the outcome (commits). Violations are logged as an error, each named."""
    started = utcnow()
    report = verification.verify()
    persistent = _failing(report)
    if persistent and recheck_seconds > 0:
        log.info("ledger verification found %s failing; checking again in %ss (money may be between jobs)",
                 ", ".join(sorted(persistent)), recheck_seconds)
        time.sleep(recheck_seconds)
        report = verification.verify()
        persistent &= _failing(report)
    record = LedgerVerification(started_at=started, finished_at=utcnow(), ok=not persistent,
                                failed_checks=len(persistent), report=report.text())
    db.session.add(record)
    db.session.commit()
    if record.ok:
        log.info("ledger verified: every invariant holds", extra={"seconds": round(report.seconds, 3)})
    else:
        log.error("ledger verification failed", extra={"failed_checks": sorted(persistent), "report": report.text()})
    return record


def latest() -> LedgerVerification | None:
    return db.session.scalar(select(LedgerVerification).order_by(LedgerVerification.finished_at.desc()).limit(1))
