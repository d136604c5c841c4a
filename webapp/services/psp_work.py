"""PSP work, one shape for all of it: claim outbox rows → plan (read the database) → call the PSP → apply.

A `PspWork` names its outbox topic and three steps:

- `plan(messages)` reads what the calls need from the database and returns one plan per message (None: nothing to
  call any more, e.g. the row was superseded). The read transaction ends before any PSP call.
- `call(psp, plan)` talks to the PSP only (never the database); calls run CONCURRENCY at a time.
- `apply(message, plan, result)` records the answer, in a short transaction of its own; the message is completed
  in the same transaction.

By default each answer is applied and committed on its own. A topic whose answers touch rows of their own (each
payout its own row) may apply a whole batch in one transaction (`together`), a savepoint per message, in the
order of `sort_key`: far fewer commits on the ledger's hot platform accounts. An answer whose application
raises is rolled back alone and retried like a failed call. Such a topic may also name `apply_all`, which
records the batch's usual answers set-based (a few statements for the whole batch instead of a few per
answer) and returns the messages it applied; the rest, and all of them if it raises, go through `apply`.

A refusal by the PSP that retrying cannot change is handed to `refused` when the topic knows what it means (a
refund the PSP will not make has failed); otherwise, like network errors, the message is retried with backoff
and, after OUTBOX_MAX_ATTEMPTS, given up on (`gave_up`) and reported as a dead letter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from webapp.extensions import db
from webapp.ops import log_context
from webapp.psp import BATCH, CONCURRENCY, Psp, PspError, call_each, get_psp
from webapp.services import outbox
from webapp.services.outbox import BatchResult, Claimed
from webapp.services.topics import Queue

log = logging.getLogger(__name__)
P = TypeVar("P")
R = TypeVar("R")


# Payload keys that name what a message is about, and the name each gets on log lines.
_LOGGED_IDS = {"event": "payment_id", "refund": "refund_id", "payout": "payout_id", "session": "psp_session_id",
               "seller": "seller_account_id"}


def bound_to(message: Claimed) -> AbstractContextManager[None]:
    """Log lines inside carry the request that recorded the message and the ids it names."""
    ids = {name: message.payload.get(key) for key, name in _LOGGED_IDS.items()}
    return log_context.bound(request_id=message.request_id, outbox_id=message.id, topic=message.topic, **ids)


def payloads(messages: list[Claimed]) -> list[Any]:
    """The default plan: each message's payload as it is."""
    return [message.payload for message in messages]


def _by_id(message: Claimed) -> Any:
    return message.id


@dataclass(frozen=True)
class Batching:
    """How a topic drains: messages per batch, PSP calls in flight, one transaction per batch or per message,
    and the order answers are applied in (a lock order)."""

    batch: int = BATCH
    concurrency: int = CONCURRENCY
    together: bool = False
    sort_key: Callable[[Claimed], Any] = _by_id


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
    apply_all: Callable[[list[tuple[Claimed, P, R]]], set[int]] | None = None  # only with `together`
    batching: Batching = Batching()

    def drain(self, limit: int | None = None, psp: Psp | None = None) -> BatchResult:
        """Do up to `limit` (default: a batch) due messages of this topic."""
        result = BatchResult()
        messages = sorted(outbox.claim(self.name, limit or self.batching.batch), key=self.batching.sort_key)
        if not messages:
            return result
        plans = self.plan(messages)
        db.session.rollback()  # no transaction stays open while the PSP answers
        client = psp or get_psp()
        answers = call_each(list(zip(messages, plans, strict=True)), lambda pair: self._attempt_for(client, *pair),
                            concurrency=self.batching.concurrency)
        outcomes = list(zip(messages, plans, answers, strict=True))
        done: list[int] = []  # completed in the transaction that applied them
        if self.apply_all is not None and self.batching.together:
            applied = self._apply_all(outcomes)
            done.extend(applied)
            result.processed += len(applied)
            outcomes = [outcome for outcome in outcomes if outcome[0].id not in applied]
        for message, plan, answer in outcomes:
            with bound_to(message):
                try:
                    with db.session.begin_nested():
                        if self._settle(message, plan, answer, result):
                            done.append(message.id)
                except Exception as exc:  # one answer that cannot be applied must not hold back the others
                    log.exception("applying %s failed", self.describe(message))
                    if outbox.fail(message.id, message.attempts, f"{type(exc).__name__}: {exc}"):
                        result.dead.append(f"{self.describe(message)}: {type(exc).__name__}: {exc}")
            if not self.batching.together:
                outbox.complete(*done)
                db.session.commit()
                done.clear()
            result.processed += 1
        outbox.complete(*done)
        db.session.commit()
        return result

    def _apply_all(self, outcomes: list[tuple[Claimed, P | None, R | PspError | None]]) -> set[int]:
        """The batch's plain answers (a plan, no error) applied set-based; the ids of the messages applied."""
        plain = [(message, plan, answer) for message, plan, answer in outcomes
                 if plan is not None and answer is not None and not isinstance(answer, PspError)]
        if not plain:
            return set()
        assert self.apply_all is not None
        try:
            with db.session.begin_nested():
                return self.apply_all(plain)
        except Exception:  # the answers are then applied one by one, each isolated
            log.exception("applying a batch of %s at once failed; applying them one by one", self.name)
            return set()

    def _attempt_for(self, psp: Psp, message: Claimed, plan: P | None) -> R | PspError | None:
        with bound_to(message):
            return self._attempt(psp, plan)

    def _attempt(self, psp: Psp, plan: P | None) -> R | PspError | None:
        if plan is None:
            return None
        try:
            return self.call(psp, plan)
        except PspError as exc:
            return exc

    def _settle(self, message: Claimed, plan: P | None, answer: R | PspError | None, result: BatchResult) -> bool:
        """Apply one answer; True when the message is done (the caller completes it in this transaction)."""
        if plan is None:
            return True
        if isinstance(answer, PspError) and (answer.retryable or self.refused is None):
            dead = outbox.fail(message.id, message.attempts, f"{type(answer).__name__}: {answer.message}",
                               permanent=not answer.retryable)
            if dead:
                result.dead.append(f"{self.describe(message)}: {answer.message}")
                if self.gave_up is not None:
                    self.gave_up(message, plan, answer)
            elif self.retrying is not None:
                self.retrying(message, plan, answer)
            return False
        if isinstance(answer, PspError):
            assert self.refused is not None
            self.refused(message, plan, answer)
        else:
            self.apply(message, plan, answer)  # type: ignore[arg-type]
        return True
