"""The Health page's facts, for a person: the pipeline's figures (the same reads as the Prometheus collector),
the last reconciliation run and the mismatches still open, and how long recent PSP events took from the PSP
creating them to the gateway applying them (webhook lag)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select

from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import LedgerVerification, PspEvent, ReconMismatch, ReconRun
from webapp.psp import read_notice
from webapp.services import pipeline_reads
from webapp.services.pipeline_reads import Backlog

LAG_SAMPLE = 200
GIVEN_UP = (pipeline_reads.DEAD, "discarded")  # never applied: no lag to measure


@dataclass(frozen=True)
class Lag:
    """Seconds from an event's creation at the PSP to its application here, over the last `sample` applied."""

    sample: int
    median: float | None
    worst: float | None


@dataclass(frozen=True)
class Health:
    queue_depths: dict[str, int]
    dead_letters: dict[str, int]
    outbox: list[Backlog]
    inbox: Backlog
    last_run: ReconRun | None
    open_mismatches: int
    oldest_open_mismatch: datetime | None
    lag: Lag
    last_verify: LedgerVerification | None  # the scheduled `ledger verify` (paysplit_ledger_verify_ok)

    @property
    def dead_total(self) -> int:
        return sum(self.dead_letters.values())


def webhook_lag(sample: int = LAG_SAMPLE) -> Lag:
    rows = db.session.execute(select(PspEvent.payload, PspEvent.processed_at)
                              .where(PspEvent.processed_at.is_not(None),
                                     or_(PspEvent.result.is_(None), PspEvent.result.not_in(GIVEN_UP)))
                              .order_by(PspEvent.processed_at.desc()).limit(sample)).all()
    lags = []
    for payload, processed_at in rows:
        if processed_at is None:
            continue
        try:
            created = datetime.fromtimestamp(read_notice(payload).created, UTC)
        except ValueError:
            continue
        lags.append(max((processed_at - created).total_seconds(), 0.0))
    if not lags:
        return Lag(0, None, None)
    return Lag(len(lags), statistics.median(lags), max(lags))


def health() -> Health:
    count, oldest = db.session.execute(select(func.count(), func.min(ReconMismatch.created_at))
                                       .where(ReconMismatch.status == "open")).one()
    return Health(
        queue_depths=pipeline_reads.queue_depths(), dead_letters=pipeline_reads.dead_counts(),
        outbox=pipeline_reads.outbox_backlog(), inbox=pipeline_reads.inbox_backlog(),
        last_run=db.session.scalar(select(ReconRun).order_by(ReconRun.started_at.desc()).limit(1)),
        open_mismatches=count or 0, oldest_open_mismatch=oldest, lag=webhook_lag(),
        last_verify=db.session.scalar(select(LedgerVerification).order_by(LedgerVerification.finished_at.desc(),
                                                                         LedgerVerification.id.desc()).limit(1)))


def age_seconds(moment: datetime | None) -> float | None:
    return (utcnow() - moment).total_seconds() if moment else None
