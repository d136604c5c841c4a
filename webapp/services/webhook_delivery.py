"""Delivering events to merchants' endpoints: claim due deliveries, POST them concurrently, record every attempt.

At least once: a delivery is marked done only after a 2xx answer was recorded; a worker that dies mid-attempt leaves
a lease that expires, and the delivery is attempted again with the same `webhook-id` (the event id), so receivers
drop duplicates by it. Ordering is not promised (retries and concurrency reorder events).

Throughput without letting one endpoint hold up the others: up to WEBHOOK_CONCURRENCY requests are in flight per
worker process on a thread pool (webhook_dispatch), at most WEBHOOK_ENDPOINT_CONCURRENCY of them to one endpoint,
each with short timeouts. A finished request frees its slot at once for the next due delivery and its outcome is
recorded by a recorder thread in batches; nothing waits for a slow request but its own slot, and the claim skips
endpoints whose slots are full, so a slow endpoint only ever slows itself.

After a failed attempt the delivery waits by webapp.domain.webhooks.RETRY_DELAYS (about three days in all, scaled
by WEBHOOK_RETRY_SCALE); when every attempt failed and the endpoint had no success since the delivery was created,
the endpoint is disabled (`disabled_reason = failing`) and the portal says so.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update
from standardwebhooks.webhooks import Webhook

from webapp.dbtypes import utcnow
from webapp.domain.errors import NotFound
from webapp.domain.webhooks import AttemptOutcome, DeliveryStatus, DisabledReason, EndpointStatus, retry_delay
from webapp.extensions import db
from webapp.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webapp.services import bulk, crypto, wakeups, webhook_endpoints, webhook_http
from webapp.services.outbox import BatchResult
from webapp.services.topics import Drain, Queue
from webapp.services.webhook_dispatch import DISPATCH
from webapp.services.webhook_events import DELIVER_TOPIC

SLICE_SECONDS = 1.0  # one drain call claims new work for this long, then returns (the job loops on its budget)
CANDIDATES_PER_SLOT = 2
# Deliveries held (in flight or claimed and waiting for a slot) per request slot of the process and per slot of
# one endpoint: a claim serves many requests, yet one endpoint never holds more than a quarter of what the process
# holds, so a slow one leaves room for the others. And how often to claim at most while some are still waiting: a
# claim is several round trips to the database.
LOOKAHEAD = 4
CLAIM_EVERY_SECONDS = 0.02


@dataclass(frozen=True)
class _Job:
    delivery_id: str
    endpoint_id: str
    event_id: str
    attempts: int
    created_at: datetime
    url: str
    body: str
    secrets: tuple[str, ...]


def _limits() -> webhook_http.Limits:
    config = current_app.config
    return webhook_http.Limits(timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
                               connect_timeout=config["WEBHOOK_CONNECT_TIMEOUT_SECONDS"],
                               response_bytes=config["WEBHOOK_RESPONSE_LIMIT_BYTES"],
                               allow_loopback=config["WEBHOOK_ALLOW_LOOPBACK"],
                               per_host=config["WEBHOOK_ENDPOINT_CONCURRENCY"])


def _due(now: datetime):
    return and_(WebhookDelivery.status == DeliveryStatus.PENDING.value, WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
                WebhookEndpoint.status == EndpointStatus.ENABLED.value)


def _claim(free: int, held: Counter[str], per_endpoint: int) -> list[_Job]:
    """Lease up to `free` due deliveries, so that this process holds (in flight or waiting for a slot) at most
    `per_endpoint` of one endpoint's, and commit the lease."""
    now = utcnow()
    full = [endpoint for endpoint, count in held.items() if count >= per_endpoint]
    query = (select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
             .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id).where(_due(now)))
    if full:
        query = query.where(WebhookDelivery.endpoint_id.not_in(full))
    candidates = db.session.execute(query.order_by(WebhookDelivery.next_attempt_at)
                                    .limit(free * CANDIDATES_PER_SLOT)
                                    .with_for_update(skip_locked=True, of=WebhookDelivery)).all()
    taken: Counter[str] = Counter()
    chosen: list[str] = []
    for row in candidates:
        if len(chosen) == free:
            break
        if held[row.endpoint_id] + taken[row.endpoint_id] < per_endpoint:
            taken[row.endpoint_id] += 1
            chosen.append(row.id)
    if not chosen:
        db.session.commit()
        return []
    lease = now + timedelta(seconds=current_app.config["WEBHOOK_TIMEOUT_SECONDS"] * 2 + 30)
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(chosen)).values(claimed_until=lease)
                       .execution_options(synchronize_session=False))
    rows = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.event_id, WebhookDelivery.attempts,
               WebhookDelivery.created_at, WebhookEvent.body_enc, WebhookEndpoint)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(chosen))).all()
    signing: dict[str, tuple[str, ...]] = {}
    jobs = []
    for found in rows:
        endpoint = found.WebhookEndpoint
        if endpoint.id not in signing:
            signing[endpoint.id] = tuple(webhook_endpoints.signing_secrets(endpoint, now))
        jobs.append(_Job(found.id, endpoint.id, found.event_id, found.attempts, found.created_at, endpoint.url,
                         crypto.decrypt(found.body_enc), signing[endpoint.id]))
    db.session.commit()
    return jobs


def signed_headers(event_id: str, body: str, secrets: tuple[str, ...] | list[str],
                   when: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers; during a secret rotation's overlap both secrets' signatures are sent."""
    moment = when or datetime.now(UTC)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": " ".join(Webhook(secret).sign(event_id, moment, body) for secret in secrets),
            "Content-Type": "application/json", "User-Agent": "PaymentGateway-Webhooks/1"}


def _send(job: _Job, limits: webhook_http.Limits) -> AttemptOutcome:
    return webhook_http.post(job.url, job.body.encode(), signed_headers(job.event_id, job.body, job.secrets), limits)


def _record(finished: list[tuple[_Job, AttemptOutcome]]) -> None:
    """Log each attempt and schedule the next one (or settle the delivery), in one transaction."""
    now = utcnow()
    scale = current_app.config["WEBHOOK_RETRY_SCALE"]
    bulk.insert_rows(WebhookAttempt, [
        {"delivery_id": job.delivery_id, "endpoint_id": job.endpoint_id, "event_id": job.event_id,
         "attempted_at": now, "status_code": outcome.status_code, "latency_ms": outcome.latency_ms,
         "response_excerpt": outcome.excerpt or None, "error": outcome.error} for job, outcome in finished])
    changes, succeeded, failed, exhausted = [], set(), set(), []
    for job, outcome in finished:
        attempts = job.attempts + 1
        status, next_at = DeliveryStatus.SUCCEEDED, None
        if outcome.succeeded:
            succeeded.add(job.endpoint_id)
        else:
            failed.add(job.endpoint_id)
            delay = retry_delay(attempts, scale)
            if delay is None:
                status = DeliveryStatus.FAILED
                exhausted.append(job)
            else:
                status, next_at = DeliveryStatus.PENDING, now + delay
        changes.append({"id": job.delivery_id, "status": status.value, "attempts": attempts,
                        "next_attempt_at": next_at, "claimed_until": None, "last_status_code": outcome.status_code,
                        "updated_at": now})
    db.session.execute(update(WebhookDelivery), changes)
    if failed:
        db.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(failed),
                                                         WebhookEndpoint.failing_since.is_(None))
                           .values(failing_since=now).execution_options(synchronize_session=False))
    if succeeded:
        db.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(succeeded))
                           .values(failing_since=None, last_success_at=now)
                           .execution_options(synchronize_session=False))
    for job in exhausted:  # failing for a delivery's whole schedule, no success meanwhile: switch it off
        db.session.execute(update(WebhookEndpoint).where(
            WebhookEndpoint.id == job.endpoint_id, WebhookEndpoint.status == EndpointStatus.ENABLED.value,
            or_(WebhookEndpoint.last_success_at.is_(None), WebhookEndpoint.last_success_at < job.created_at))
            .values(status=EndpointStatus.DISABLED.value, disabled_reason=DisabledReason.FAILING.value,
                    updated_at=now).execution_options(synchronize_session=False))
    db.session.commit()


def deliver_due() -> BatchResult:
    """Claim and send due deliveries for about SLICE_SECONDS, keeping up to WEBHOOK_CONCURRENCY requests in flight
    in this process, WEBHOOK_ENDPOINT_CONCURRENCY per endpoint; returns how many were sent.

    Deliveries are claimed ahead (up to LOOKAHEAD per endpoint slot) so that one claim serves many requests; those
    still waiting for a slot when the slice ends are handed back. Outcomes are recorded as they come
    (webhook_dispatch), so a slow request never holds up this loop."""
    config = current_app.config
    concurrency, per_endpoint = config["WEBHOOK_CONCURRENCY"], config["WEBHOOK_ENDPOINT_CONCURRENCY"]
    app, limits = current_app._get_current_object(), _limits()  # type: ignore[attr-defined]
    waiting: dict[str, deque[_Job]] = defaultdict(deque)
    result = BatchResult()
    deadline = time.monotonic() + SLICE_SECONDS
    next_claim = 0.0
    try:
        while (left := deadline - time.monotonic()) > 0:
            busy, in_flight = DISPATCH.snapshot()
            for endpoint_id, jobs in waiting.items():
                while jobs and busy[endpoint_id] < per_endpoint and in_flight < concurrency:
                    DISPATCH.submit(app, jobs.popleft(), lambda job: _send(job, limits), _record, concurrency)
                    busy[endpoint_id] += 1
                    in_flight += 1
                    result.processed += 1
            held = busy + Counter({endpoint_id: len(jobs) for endpoint_id, jobs in waiting.items()})
            room = concurrency * LOOKAHEAD - sum(held.values())
            claimed = []
            if room > 0 and time.monotonic() >= next_claim:
                claimed = _claim(room, held, per_endpoint * LOOKAHEAD)
                next_claim = time.monotonic() + CLAIM_EVERY_SECONDS
            for job in claimed:
                waiting[job.endpoint_id].append(job)
            if not claimed:
                if in_flight == 0 and not any(waiting.values()):
                    break  # nothing due and nothing of ours in flight
                # Slots are full, only full endpoints have work, or claiming again is too soon.
                DISPATCH.wait_for_change(min(left, 0.25, max(next_claim - time.monotonic(), 0.001)))
    finally:
        _hand_back([job.delivery_id for jobs in waiting.values() for job in jobs])
    return result


def _hand_back(delivery_ids: list[str]) -> None:
    """Release leases of deliveries claimed but not sent, so any worker can take them at once."""
    if delivery_ids:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
                           .values(claimed_until=None).execution_options(synchronize_session=False))
        db.session.commit()


def backlog() -> bool:
    """Deliveries due now (what the relay wakes a worker for: retries come due without anyone enqueuing them)."""
    now = utcnow()
    return bool(db.session.scalar(select(exists().where(
        WebhookDelivery.endpoint_id == WebhookEndpoint.id, _due(now)))))


def resend(merchant_id: str, delivery_id: str) -> WebhookDelivery:
    """Deliver again now, with a fresh retry schedule and the same `webhook-id` (commits)."""
    delivery = db.session.scalar(
        select(WebhookDelivery).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id == delivery_id, WebhookEndpoint.merchant_id == merchant_id)
        .with_for_update(of=WebhookDelivery))
    if delivery is None:
        raise NotFound(f"No such webhook delivery: {delivery_id[:60]!r}.", param="id")
    now = utcnow()
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING.value, 0, now
    delivery.claimed_until, delivery.updated_at = None, now
    wakeups.wake_after_commit(DELIVER_TOPIC)
    db.session.commit()
    return delivery


TOPICS = [Drain(DELIVER_TOPIC, Queue.WEBHOOKS, deliver_due)]
