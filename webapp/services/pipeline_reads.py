"""Reads about background work, for the admin console's Background work and Health pages and the Prometheus
collector (webapp.ops.pipeline_metrics): RQ queue depths and failed registries, the outbox's and the inbox's
backlogs with the age of their oldest item, and the dead letters with the record each one concerns.

A dead letter is work given up on: a job in RQ's failed registry (per queue), an outbox row with status `dead`,
or an inbox event with result `dead`. Read-only; every function is one query (or one Redis round trip per queue).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from rq import Queue as RqQueue
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from webapp.dbtypes import utcnow
from webapp.extensions import db, redis_conn
from webapp.models import OutboxMessage, Payout, PspEvent, PspSession, Refund
from webapp.services import inbox
from webapp.services.topics import Queue, queue_of

QUEUES = tuple(q.value for q in Queue)
DEAD = "dead"


def pairs(result) -> dict:
    """A two-column result as a dict of the first column to the second."""
    return {key: value for key, value in result}


def _redis(connection: Redis | None) -> Redis:
    return connection or redis_conn.client


def queue_depths(connection: Redis | None = None) -> dict[str, int]:
    """Jobs waiting in each RQ queue."""
    client = _redis(connection)
    return {name: RqQueue(name, connection=client).count for name in QUEUES}


def failed_counts(connection: Redis | None = None) -> dict[str, int]:
    """Jobs in each queue's failed registry (RQ's dead-letter queue)."""
    client = _redis(connection)
    return {name: FailedJobRegistry(name, connection=client).count for name in QUEUES}


@dataclass(frozen=True)
class Backlog:
    name: str                      # an outbox topic, or "inbox"
    waiting: int
    oldest_at: datetime | None

    @property
    def oldest_age_seconds(self) -> float | None:
        return (utcnow() - self.oldest_at).total_seconds() if self.oldest_at else None


def outbox_backlog() -> list[Backlog]:
    """Pending outbox rows per topic (due or scheduled for a retry), with the oldest one's creation time."""
    rows = db.session.execute(select(OutboxMessage.topic, func.count(), func.min(OutboxMessage.created_at))
                              .where(OutboxMessage.status == "pending").group_by(OutboxMessage.topic)
                              .order_by(OutboxMessage.topic)).all()
    return [Backlog(topic, count, oldest) for topic, count, oldest in rows]


def inbox_backlog() -> Backlog:
    """PSP events received and not applied yet, with the oldest one's arrival time."""
    count, oldest = db.session.execute(select(func.count(), func.min(PspEvent.received_at))
                                       .where(PspEvent.processed_at.is_(None))).one()
    return Backlog(inbox.TOPIC, count or 0, oldest)


def dead_counts(connection: Redis | None = None) -> dict[str, int]:
    """Dead letters per queue: failed RQ jobs plus dead outbox rows (by their topic's queue) plus dead inbox
    events (the inbox's queue)."""
    counts = failed_counts(connection)
    for topic, count in db.session.execute(select(OutboxMessage.topic, func.count())
                                           .where(OutboxMessage.status == DEAD).group_by(OutboxMessage.topic)):
        queue = queue_of(topic).value
        counts[queue] = counts.get(queue, 0) + count
    dead_events = db.session.scalar(select(func.count()).select_from(PspEvent).where(PspEvent.result == DEAD)) or 0
    inbox_queue = queue_of(inbox.TOPIC).value
    counts[inbox_queue] = counts.get(inbox_queue, 0) + dead_events
    return counts


@dataclass(frozen=True)
class Concern:
    """The record a piece of work is about: a payment, a payout or a seller account."""

    kind: str   # payment | payout | seller
    id: str


def _concerns_of_payloads(payloads: dict[int, dict]) -> dict[int, Concern]:
    sessions = {p["session"] for p in payloads.values() if "session" in p}
    intents = {p["payment_intent"] for p in payloads.values() if "payment_intent" in p}
    refunds = {p["refund"] for p in payloads.values() if "refund" in p}
    by_session = pairs(db.session.execute(select(PspSession.id, PspSession.payment_event_id)
                                         .where(PspSession.id.in_(sessions)))) if sessions else {}
    by_intent = pairs(db.session.execute(select(PspSession.payment_intent_id, PspSession.payment_event_id)
                                        .where(PspSession.payment_intent_id.in_(intents)))) if intents else {}
    by_refund = pairs(db.session.execute(select(Refund.id, Refund.payment_event_id)
                                        .where(Refund.id.in_(refunds)))) if refunds else {}
    found: dict[int, Concern] = {}
    for key, p in payloads.items():
        payment = p.get("event") or by_session.get(p.get("session")) or by_intent.get(p.get("payment_intent")) \
            or by_refund.get(p.get("refund"))
        if payment:
            found[key] = Concern("payment", payment)
        elif p.get("payout"):
            found[key] = Concern("payout", p["payout"])
        elif p.get("seller"):
            found[key] = Concern("seller", p["seller"])
    return found


def event_concerns(object_ids: set[str]) -> dict[str, Concern]:
    """What PSP objects (sessions, payment intents, refunds, payouts) are about, by the object's id."""
    ids = {i for i in object_ids if i}
    if not ids:
        return {}
    found: dict[str, Concern] = {}
    for session_id, intent_id, payment in db.session.execute(
            select(PspSession.id, PspSession.payment_intent_id, PspSession.payment_event_id)
            .where(PspSession.id.in_(ids) | PspSession.payment_intent_id.in_(ids))):
        for key in (session_id, intent_id):
            if key in ids:
                found[key] = Concern("payment", payment)
    for psp_refund, payment in db.session.execute(select(Refund.psp_refund_id, Refund.payment_event_id)
                                                  .where(Refund.psp_refund_id.in_(ids))):
        if psp_refund:
            found[psp_refund] = Concern("payment", payment)
    for psp_payout, payout in db.session.execute(select(Payout.psp_payout_id, Payout.id)
                                                 .where(Payout.psp_payout_id.in_(ids))):
        if psp_payout:
            found[psp_payout] = Concern("payout", payout)
    return found


@dataclass(frozen=True)
class DeadRow:
    """A dead outbox row or inbox event."""

    source: str            # outbox | inbox
    id: str
    name: str              # the outbox topic or the event type
    attempts: int
    error: str | None
    at: datetime | None    # when it was created / received
    concern: Concern | None


def dead_outbox(limit: int = 100) -> list[DeadRow]:
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == DEAD)
                                   .order_by(OutboxMessage.id.desc()).limit(limit)))
    concerns = _concerns_of_payloads({row.id: json.loads(row.payload or "{}") for row in rows})
    return [DeadRow("outbox", str(row.id), row.topic, row.attempts, row.last_error, row.created_at,
                    concerns.get(row.id)) for row in rows]


def dead_inbox(limit: int = 100) -> list[DeadRow]:
    rows = list(db.session.scalars(select(PspEvent).where(PspEvent.result == DEAD)
                                   .order_by(PspEvent.received_at.desc()).limit(limit)))
    concerns = event_concerns({row.object_id for row in rows if row.object_id})
    return [DeadRow("inbox", row.id, row.type, row.attempts, row.last_error, row.received_at,
                    concerns.get(row.object_id or "")) for row in rows]


@dataclass(frozen=True)
class FailedJob:
    """A job in a queue's failed registry."""

    queue: str
    id: str
    function: str
    args: tuple
    error: str
    ended_at: datetime | None

    @property
    def headline(self) -> str:
        """The exception's last line: what went wrong, without the traceback."""
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def error_of(job: Job) -> str:
    """The exception a failed job ended with (RQ keeps it with the job's latest result)."""
    result = job.latest_result()
    return (result.exc_string or "") if result is not None else ""


def failed_jobs(limit: int = 50, connection: Redis | None = None) -> list[FailedJob]:
    """The newest failed jobs of every queue."""
    client = _redis(connection)
    found: list[FailedJob] = []
    for name in QUEUES:
        ids = FailedJobRegistry(name, connection=client).get_job_ids(0, limit - 1, desc=True)
        for job in Job.fetch_many(ids, connection=client):
            if job is None:
                continue
            ended = job.ended_at.replace(tzinfo=utcnow().tzinfo) if job.ended_at and job.ended_at.tzinfo is None \
                else job.ended_at
            found.append(FailedJob(name, job.id, job.func_name or "", tuple(job.args or ()), error_of(job),
                                   ended))
    return found

