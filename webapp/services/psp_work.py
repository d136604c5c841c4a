"""PSP work, one shape for all of it: claim outbox rows → plan (read the database) → call the PSP → apply.

A `PspWork` names its outbox topic and three steps:

- `plan(messages)` reads what the calls need from the database and returns one plan per message (None: nothing to
  call any more, e.g. the row was superseded). The read transaction ends before any PSP call.
- `call(psp, plan)` talks to the PSP only (never the database); calls run CONCURRENCY at a time.
- `apply(message, plan, result)` records the answer, in a short transaction of its own; the message is completed
  in the same transaction.

A refusal by the PSP that retrying cannot change is handed to `refused` when the topic knows what it means (a
refund the PSP will not make has failed); otherwise, like network errors, the message is retried with backoff
and, after OUTBOX_MAX_ATTEMPTS, given up on (`gave_up`) and reported as a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from webapp.extensions import db
from webapp.psp import BATCH, Psp, PspError, call_each, get_psp
from webapp.services import outbox
from webapp.services.outbox import BatchResult, Claimed
from webapp.services.topics import Queue

P = TypeVar("P")
R = TypeVar("R")


def payloads(messages: list[Claimed]) -> list[Any]:
    """The default plan: each message's payload as it is."""
    return [message.payload for message in messages]


@dataclass(frozen=True)
class PspWork(Generic[P, R]):
    name: str                                                   # the outbox topic
    queue: Queue
    call: Callable[[Psp, P], R]
    apply: Callable[[Claimed, P, R], None]
    describe: Callable[[Claimed], str]                          # names a message in dead-letter reports
    plan: Callable[[list[Claimed]], list[P | None]] = payloads
    refused: Callable[[Claimed, P, PspError], None] | None = None
    retrying: Callable[[Claimed, P, PspError], None] | None = None
    gave_up: Callable[[Claimed, P, PspError], None] | None = None
    batch: int = BATCH

    def drain(self, limit: int | None = None, psp: Psp | None = None) -> BatchResult:
        """Do up to `limit` (default: a batch) due messages of this topic."""
        result = BatchResult()
        messages = outbox.claim(self.name, limit or self.batch)
        if not messages:
            return result
        plans = self.plan(messages)
        db.session.rollback()  # no transaction stays open while the PSP answers
        client = psp or get_psp()
        answers = call_each(plans, lambda plan: self._attempt(client, plan))
        for message, plan, answer in zip(messages, plans, answers, strict=True):
            self._settle(message, plan, answer, result)
            db.session.commit()
            result.processed += 1
        return result

    def _attempt(self, psp: Psp, plan: P | None) -> R | PspError | None:
        if plan is None:
            return None
        try:
            return self.call(psp, plan)
        except PspError as exc:
            return exc

    def _settle(self, message: Claimed, plan: P | None, answer: R | PspError | None, result: BatchResult) -> None:
        if plan is None:
            outbox.complete(message.id)
        elif isinstance(answer, PspError) and (answer.retryable or self.refused is None):
            dead = outbox.fail(message.id, message.attempts, f"{type(answer).__name__}: {answer.message}",
                               permanent=not answer.retryable)
            if dead:
                result.dead.append(f"{self.describe(message)}: {answer.message}")
                if self.gave_up is not None:
                    self.gave_up(message, plan, answer)
            elif self.retrying is not None:
                self.retrying(message, plan, answer)
        else:
            if isinstance(answer, PspError):
                assert self.refused is not None
                self.refused(message, plan, answer)
            else:
                self.apply(message, plan, answer)  # type: ignore[arg-type]
            outbox.complete(message.id)
