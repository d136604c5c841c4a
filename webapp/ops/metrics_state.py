"""Metrics read from the database at scrape time: open reconciliation mismatches, the last ledger verification.

Two small indexed queries per scrape; anything that reads much more belongs in a scheduled job that stores its
result (as the ledger verification does).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from webapp.dbtypes import utcnow
from webapp.domain.reconciliation import MismatchStatus
from webapp.extensions import db
from webapp.models import ReconMismatch
from webapp.services import ledger_checks


class DatabaseCollector(Collector):
    """Gauges from the database; needs an application context when collected (a scrape runs in one)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._mismatches()
            yield from self._ledger()
        finally:
            db.session.rollback()  # a scrape leaves no transaction open

    def _mismatches(self) -> Iterator[GaugeMetricFamily]:
        rows = db.session.execute(
            select(ReconMismatch.class_name, func.count(), func.min(ReconMismatch.created_at))
            .where(ReconMismatch.status == MismatchStatus.OPEN.value).group_by(ReconMismatch.class_name)).all()
        count = GaugeMetricFamily("paysplit_reconciliation_mismatches", "Open reconciliation mismatches, by class.",
                                  labels=["class"])
        oldest = GaugeMetricFamily("paysplit_reconciliation_mismatch_oldest_open_seconds",
                                   "Age of the oldest open reconciliation mismatch, by class.", labels=["class"])
        now = utcnow()
        for class_name, open_count, first in rows:
            count.add_metric([class_name], open_count)
            if first is not None:
                first = first if first.tzinfo else first.replace(tzinfo=now.tzinfo)
                oldest.add_metric([class_name], max((now - first).total_seconds(), 0.0))
        yield count
        yield oldest

    def _ledger(self) -> Iterator[GaugeMetricFamily]:
        last = ledger_checks.latest()
        ok = GaugeMetricFamily("paysplit_ledger_verify_ok", "1 when the last scheduled ledger verification found "
                               "every invariant holding, 0 when it found a violation (absent before the first).")
        when = GaugeMetricFamily("paysplit_ledger_verify_timestamp_seconds",
                                 "When the last scheduled ledger verification finished (Unix time).")
        if last is not None:
            ok.add_metric([], 1.0 if last.ok else 0.0)
            when.add_metric([], last.finished_at.timestamp())
        yield ok
        yield when
