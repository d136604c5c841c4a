"""The one registry of background work: every topic a worker drains, the queue it runs on, and how to drain it.

The workers (`workers.jobs.drain`), the wake-ups (`workers.enqueue`) and the relay all read it. A topic is an
outbox topic (PSP work, webapp.services.psp_work) or another table drained in batches (the inbox of PSP events,
funds becoming available). Modules define their topics; `registry()` collects them once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Protocol


class Queue(StrEnum):
    """RQ queues, highest priority first: a worker drains `high` before it looks at `default`."""

    HIGH = "high"        # what a buyer is waiting on: registering a checkout with the PSP, applying results
    DEFAULT = "default"  # the ledger, refunds, payouts
    LOW = "low"          # sweeps and reports
    WEBHOOKS = "webhooks"  # deliveries to merchants' endpoints: their own queue, so a worker can be given to them


class Topic(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def queue(self) -> Queue: ...

    def drain(self) -> Any: ...  # returns an outbox.BatchResult


@dataclass(frozen=True)
class Drain:
    """A topic drained by a plain function (no PSP call in it)."""

    name: str
    queue: Queue
    run: Callable[[], Any]

    def drain(self) -> Any:
        return self.run()


@cache
def registry() -> dict[str, Topic]:
    from webapp.services import executor, funds, inbox, payout_jobs, refund_jobs, seller_jobs, webhook_delivery

    topics: list[Topic] = [inbox.TOPIC_DRAIN, *executor.TOPICS, *funds.TOPICS, *refund_jobs.TOPICS,
                           *seller_jobs.TOPICS, *payout_jobs.TOPICS, *webhook_delivery.TOPICS]
    return {topic.name: topic for topic in topics}


def queue_of(name: str) -> Queue:
    topic = registry().get(name)
    return topic.queue if topic is not None else Queue.DEFAULT
