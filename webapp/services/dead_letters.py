"""An admin's actions on dead letters and PSP events, each audited:

- Retry a dead outbox row: back to `pending` with its attempts reset, due now, and a worker woken for its topic.
- Discard a dead outbox row: marked `done` with the discard noted in its last error (the work is not done).
- Retry a dead inbox event, or re-apply any stored PSP event: unprocessed again, applied by the next inbox drain
  through the normal event path (applying is idempotent: an event applied twice changes nothing the second time).
- Discard a dead inbox event: its result becomes `discarded`.
- Retry a job of RQ's failed registry (requeued as it was) or discard it (deleted).
"""

from __future__ import annotations

from redis import Redis
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.domain.errors import Conflict, NotFound
from webapp.extensions import db, redis_conn
from webapp.models import OutboxMessage, PspEvent
from webapp.services import audit, inbox, wakeups
from webapp.services.pipeline_reads import DEAD, QUEUES, error_of

DISCARDED = "discarded"


def _outbox_row(message_id: int) -> OutboxMessage:
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update())
    if row is None:
        raise NotFound(f"No outbox row {message_id}.")
    if row.status != DEAD:
        raise Conflict(f"Outbox row {message_id} is {row.status}: only dead rows can be retried or discarded.")
    return row


def retry_outbox(message_id: int, *, actor: audit.Actor | None = None) -> OutboxMessage:
    row = _outbox_row(message_id)
    audit.note("dead_letter.retry", "outbox", str(row.id), {"topic": row.topic, "attempts": row.attempts,
               "error": row.last_error}, actor=actor)
    row.status, row.attempts, row.available_at, row.claimed_until = "pending", 0, utcnow(), None
    wakeups.wake_after_commit(row.topic)
    db.session.commit()
    return row


def discard_outbox(message_id: int, *, actor: audit.Actor | None = None) -> OutboxMessage:
    row = _outbox_row(message_id)
    who = actor or audit.current_actor()
    audit.note("dead_letter.discard", "outbox", str(row.id), {"topic": row.topic, "attempts": row.attempts,
               "error": row.last_error}, actor=who)
    row.status, row.processed_at = "done", utcnow()
    row.last_error = f"discarded by {who.name}: {row.last_error or ''}"[:2000]
    db.session.commit()
    return row


def _event(event_id: str) -> PspEvent:
    row = db.session.scalar(select(PspEvent).where(PspEvent.id == event_id).with_for_update())
    if row is None:
        raise NotFound(f"No PSP event {event_id!r}.")
    return row


def reapply_event(event_id: str, *, actor: audit.Actor | None = None) -> PspEvent:
    """Apply a stored PSP event again (a dead one's retry, or any event an admin wants re-applied)."""
    row = _event(event_id)
    action = "dead_letter.retry" if row.result == DEAD else "psp_event.reapply"
    audit.note(action, "psp_event", row.id, {"type": row.type, "result": row.result, "attempts": row.attempts,
               "error": row.last_error}, actor=actor)
    row.processed_at, row.result, row.attempts, row.claimed_until = None, None, 0, None
    wakeups.wake_after_commit(inbox.TOPIC)
    db.session.commit()
    return row


def discard_event(event_id: str, *, actor: audit.Actor | None = None) -> PspEvent:
    row = _event(event_id)
    if row.result != DEAD:
        raise Conflict(f"PSP event {event_id} is not dead-lettered: only those can be discarded.")
    audit.note("dead_letter.discard", "psp_event", row.id, {"type": row.type, "attempts": row.attempts,
               "error": row.last_error}, actor=actor)
    row.result = DISCARDED
    db.session.commit()
    return row


def _failed(queue: str, job_id: str, connection: Redis | None) -> tuple[FailedJobRegistry, Job]:
    if queue not in QUEUES:
        raise NotFound(f"No queue {queue!r}.")
    client = connection or redis_conn.client
    registry = FailedJobRegistry(queue, connection=client)
    if job_id not in registry:
        raise NotFound(f"No failed job {job_id!r} in queue {queue!r}.")
    try:
        return registry, Job.fetch(job_id, connection=client)
    except NoSuchJobError:
        raise NotFound(f"Failed job {job_id!r} has expired.")


def retry_job(queue: str, job_id: str, *, actor: audit.Actor | None = None, connection: Redis | None = None) -> Job:
    """Requeue a failed job (at the back of its queue) and audit it."""
    registry, job = _failed(queue, job_id, connection)
    try:
        registry.requeue(job)
    except InvalidJobOperation as exc:
        raise Conflict(f"Job {job_id} cannot be requeued: {exc}")
    audit.note("dead_letter.retry", "rq_job", job_id, {"queue": queue, "function": job.func_name,
               "args": list(job.args or ()), "error": error_of(job).strip().splitlines()[-1:]}, actor=actor)
    db.session.commit()
    return job


def discard_job(queue: str, job_id: str, *, actor: audit.Actor | None = None, connection: Redis | None = None) -> None:
    registry, job = _failed(queue, job_id, connection)
    detail = {"queue": queue, "function": job.func_name, "args": list(job.args or ()),
              "error": error_of(job).strip().splitlines()[-1:]}
    registry.remove(job, delete_job=True)
    audit.note("dead_letter.discard", "rq_job", job_id, detail, actor=actor)
    db.session.commit()
