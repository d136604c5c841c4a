"""RQ jobs. Each is a few lines: open an app context, call a service, wake more work if some is left.

A drain job that gave up on some rows (they are marked dead in the database) raises DeadLetter, so RQ
moves the job to its failed registry with the reason: that registry is the dead-letter queue admins see.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from webapp.extensions import redis_conn
from webapp.services import inbox, outbox, payouts, sweeper, webhook_delivery
from webapp.services.topics import Queue, registry
from workers import enqueue, scheduler
from workers.context import app_context, get_app

log = logging.getLogger(__name__)

# How long one drain job keeps going before it hands over to a fresh job at the back of its queue. Work a
# buyer waits for (the `high` queue) gets a long turn; everything else yields often, so a worker that is
# busy booking fees is never more than a moment away from picking up a webhook.
TIME_BUDGET_SECONDS = {Queue.HIGH: 20.0, Queue.DEFAULT: 0.5, Queue.LOW: 0.5, Queue.WEBHOOKS: 2.0}


class DeadLetter(Exception):
    """Work that kept failing and was given up on; the message lists it."""


def drain(topic: str) -> int:
    """Apply due work of `topic` in batches until none is left or the time budget is spent."""
    with app_context():
        enqueue.clear_flag(topic)
        work = registry()[topic]
        deadline = time.monotonic() + TIME_BUDGET_SECONDS[work.queue]
        processed, dead = 0, []
        while time.monotonic() < deadline:
            result = work.drain()
            processed += result.processed
            dead.extend(result.dead)
            if result.processed == 0:
                break
        else:
            enqueue.wake(topic)  # out of time with work left: hand over to a fresh job
        if dead:
            raise DeadLetter(f"{topic}: gave up on {len(dead)} item(s): " + "; ".join(dead[:20]))
        return processed


def relay() -> list[str]:
    """Wake workers for everything due: covers lost jobs, a flushed Redis and workers killed mid-batch."""
    with app_context():
        topics = outbox.due_topics()
        if inbox.backlog():
            topics.append(inbox.TOPIC)
        if webhook_delivery.backlog():
            topics.append(webhook_delivery.DELIVER_TOPIC)
        for topic in topics:
            enqueue.wake(topic)
        return topics


def sweep() -> dict:
    with app_context():
        result = sweeper.sweep()  # the syncs it requests wake a worker when it commits
        return {"syncs_requested": result.syncs_requested, "keys_pruned": result.keys_pruned}


def payout_run(day: str | None = None) -> dict:
    """The daily payout run (RQ cron), for today's UTC date unless `day` (YYYY-MM-DD) is given."""
    with app_context():
        when = datetime.strptime(day, "%Y-%m-%d").date() if day else datetime.now(UTC).date()
        if day is None and not scheduler.claim_once(redis_conn.client, f"payout_run:{when.isoformat()}"):
            log.warning("payout run %s already started by another scheduler; skipped", when)
            return {"day": when.isoformat(), "skipped": "already_run"}
        result = payouts.run(when)
        log.info("payout run %s: %d due, %d created, skipped %s", when, result.due, len(result.created),
                 result.skipped)
        return {"day": when.isoformat(), "due": result.due, "created": len(result.created), "skipped": result.skipped}


def reconcile(run_id: str, day: str, files: str = "[]") -> None:
    """A run asked for on the admin page (recorded already): reconcile `day` (YYYY-MM-DD)."""
    import json
    from datetime import date

    from webapp.services.reconciliation import requests

    with app_context():
        requests.perform(run_id, date.fromisoformat(day), [tuple(pair) for pair in json.loads(files)])


def verify_ledger() -> bool:
    """The daily ledger verification (cron); its stored result feeds paysplit_ledger_verify_ok."""
    from webapp.services import ledger_checks

    with app_context():
        return ledger_checks.verify_and_record(get_app().config["LEDGER_VERIFY_RECHECK_SECONDS"]).ok


def reconcile_yesterday() -> None:
    """The daily run (cron): the previous UTC day, against the PSP's reports."""
    from webapp.services.reconciliation import runs

    with app_context():
        day = runs.previous_day()
        if not scheduler.claim_once(redis_conn.client, f"reconcile:{day.isoformat()}"):
            log.warning("reconciliation of %s already started by another scheduler; skipped", day)
            return
        log.info("reconciling %s", day)
        runs.run_day(day, triggered_by="cron")
