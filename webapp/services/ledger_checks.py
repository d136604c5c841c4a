"""The scheduled ledger verification: run every check of `flask ledger verify` and keep the result.

Monitoring reads the newest result (paysplit_ledger_verify_ok) instead of verifying at scrape time: a full
verification reads every posting, far too much for a scrape.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import LedgerVerification
from webapp.services import verification

log = logging.getLogger(__name__)


def verify_and_record() -> LedgerVerification:
    """Verify the ledger and store the outcome (commits). Violations are logged as an error, each named."""
    started = utcnow()
    report = verification.verify()
    failed = sum(1 for violations in report.by_check().values() if violations)
    record = LedgerVerification(started_at=started, finished_at=utcnow(), ok=report.ok, failed_checks=failed,
                                report=report.text())
    db.session.add(record)
    db.session.commit()
    if report.ok:
        log.info("ledger verified: every invariant holds", extra={"seconds": round(report.seconds, 3)})
    else:
        log.error("ledger verification failed", extra={"failed_checks": failed, "report": report.text()})
    return record


def latest() -> LedgerVerification | None:
    return db.session.scalar(select(LedgerVerification).order_by(LedgerVerification.finished_at.desc()).limit(1))
