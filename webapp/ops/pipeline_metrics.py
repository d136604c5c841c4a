"""Pipeline health for Prometheus: a custom collector that reads the queues, backlogs and dead letters when
scraped (webapp.services.pipeline_reads), so every web process reports the same shared truth from PostgreSQL and
Redis rather than a per-process counter.

    SCRAPE_COLLECTORS in webapp.ops.metrics_http lists it: /metrics collects it inside the scrape's app context.

Families: paysplit_queue_depth{queue}, paysplit_dead_letters{queue}, paysplit_outbox_backlog{topic},
paysplit_outbox_oldest_age_seconds{topic}, paysplit_inbox_backlog, paysplit_inbox_oldest_age_seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import RedisError
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db
from webapp.services import pipeline_reads

log = logging.getLogger(__name__)


class PipelineCollector(Collector):
    """Gauges read at scrape time; needs an application context when collected (a scrape runs in one)."""

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: registering must not query the database

    def collect(self) -> Iterator[Metric]:
        try:
            depths = pipeline_reads.queue_depths()
            dead = pipeline_reads.dead_counts()
            outbox = pipeline_reads.outbox_backlog()
            inbox = pipeline_reads.inbox_backlog()
        except (RedisError, SQLAlchemyError):
            log.warning("pipeline metrics unavailable", exc_info=True)
            return
        finally:
            db.session.rollback()  # a scrape leaves no transaction open
        queue_depth = GaugeMetricFamily("paysplit_queue_depth", "Jobs waiting in an RQ queue.", labels=["queue"])
        for queue, depth in depths.items():
            queue_depth.add_metric([queue], depth)
        dead_letters = GaugeMetricFamily(
            "paysplit_dead_letters", "Work given up on, waiting for an admin: failed RQ jobs and dead outbox/inbox "
            "rows, by queue.", labels=["queue"])
        for queue, count in dead.items():
            dead_letters.add_metric([queue], count)
        backlog = GaugeMetricFamily("paysplit_outbox_backlog", "Pending outbox rows by topic.", labels=["topic"])
        oldest = GaugeMetricFamily("paysplit_outbox_oldest_age_seconds",
                                   "Age of the oldest pending outbox row by topic.", labels=["topic"])
        for item in outbox:
            backlog.add_metric([item.name], item.waiting)
            oldest.add_metric([item.name], item.oldest_age_seconds or 0.0)
        yield queue_depth
        yield dead_letters
        yield backlog
        yield oldest
        yield GaugeMetricFamily("paysplit_inbox_backlog", "PSP events received and not applied yet.",
                                value=inbox.waiting)
        yield GaugeMetricFamily("paysplit_inbox_oldest_age_seconds", "Age of the oldest PSP event not applied yet.",
                                value=inbox.oldest_age_seconds or 0.0)
