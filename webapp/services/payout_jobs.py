"""Payouts' PSP work: the transfer to the seller's connected account and the payout to its bank (one step; the
payout call alone again if it failed), the reversal of a transfer whose payout did not reach the bank, and
polling the PSP for payouts whose news may be lost.

Idempotency keys come from the payout row (`payout-transfer-<id>`, `payout-<id>`, `payout-reversal-<id>`): a
retried job, or a worker killed between the call and recording its answer, never moves money twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select

from webapp.domain.payouts import PayoutStatus
from webapp.extensions import db
from webapp.models import Payout
from webapp.psp import NewPayout, NewReversal, NewTransfer, Psp, PspError, PspPayout, PspReversal, PspTransfer
from webapp.services import payout_updates, payouts
from webapp.services.outbox import Claimed
from webapp.services.psp_work import Batching, PspWork
from webapp.services.topics import Queue

T = TypeVar("T")

# A payout run creates thousands of payouts at once: larger batches, more calls in flight, and each batch's
# answers applied in one transaction (each payout touches its own row), in payout order.
BULK = Batching(batch=64, concurrency=16, together=True, sort_key=lambda message: message.payload["payout"])


def _metadata(payout: Payout) -> dict[str, str]:
    return {"payout_id": payout.id, "seller_account_id": payout.seller_account_id, "merchant_id": payout.merchant_id}


def _plans(messages: list[Claimed], build: Callable[[Payout], T | None]) -> list[T | None]:
    """One plan per message from its payout (None: the payout is gone or needs no call any more)."""
    found = {p.id: p for p in db.session.scalars(
        select(Payout).where(Payout.id.in_([m.payload["payout"] for m in messages])))}
    return [build(payout) if (payout := found.get(m.payload["payout"])) is not None else None for m in messages]


def _pending(payout: Payout) -> bool:
    return PayoutStatus(payout.status) is PayoutStatus.PENDING


def _new_payout(payout: Payout) -> NewPayout:
    return NewPayout(f"payout-{payout.id}", payout.psp_account_id, payout.amount, payout.currency,
                     description=f"Payout {payout.id}", metadata=_metadata(payout))


@dataclass(frozen=True)
class _Send:
    transfer: NewTransfer
    payout: NewPayout


@dataclass(frozen=True)
class _Sent:
    transfer: PspTransfer
    payout: PspPayout | PspError  # the payout call is retried on its own (`payouts.submit`) if it failed


def _send_plans(messages: list[Claimed]) -> list[_Send | None]:
    return _plans(messages, lambda payout: None if payout.psp_transfer_id or not _pending(payout) else _Send(
        NewTransfer(f"payout-transfer-{payout.id}", payout.psp_account_id, payout.amount, payout.currency,
                    transfer_group=payout.id, metadata=_metadata(payout)), _new_payout(payout)))


def _send(psp: Psp, plan: _Send) -> _Sent:
    """The transfer, then at once the payout: one round trip of the worker for both in the usual case. A failed
    transfer fails the step; a failed payout call leaves the payout to `payouts.submit`."""
    transfer = psp.create_transfer(plan.transfer)
    try:
        return _Sent(transfer, psp.create_payout(plan.payout))
    except PspError as exc:
        return _Sent(transfer, exc)


def _sent(message: Claimed, plan: _Send, found: _Sent) -> None:
    created = found.payout if isinstance(found.payout, PspPayout) else None
    payout_updates.transferred(message.payload["payout"], found.transfer.id, submit=created is None)
    if created is not None:
        payout_updates.apply_psp_payout(created, source="PSP payout created")


def _refused(message: Claimed, plan: object, error: PspError) -> None:
    payout_updates.refused(message.payload["payout"], error.code, error.message)


TRANSFER = PspWork[_Send, _Sent](
    name=payouts.TRANSFER_TOPIC, queue=Queue.DEFAULT, plan=_send_plans, call=_send, apply=_sent, refused=_refused,
    describe=lambda m: f"transfer of payout {m.payload['payout']}", batching=BULK)


def _payout_plans(messages: list[Claimed]) -> list[NewPayout | None]:
    return _plans(messages, lambda payout: None if payout.psp_payout_id or not _pending(payout)
                  else _new_payout(payout))


def _submitted(message: Claimed, plan: NewPayout, found: PspPayout) -> None:
    payout_updates.apply_psp_payout(found, source="PSP payout created")


SUBMIT = PspWork[NewPayout, PspPayout](
    name=payouts.SUBMIT_TOPIC, queue=Queue.DEFAULT, plan=_payout_plans,
    call=lambda psp, request: psp.create_payout(request), apply=_submitted, refused=_refused,
    describe=lambda m: f"payout {m.payload['payout']}", batching=BULK)


def _reversal_plans(messages: list[Claimed]) -> list[NewReversal | None]:
    return _plans(messages, lambda payout: None if payout.psp_reversal_id or not payout.psp_transfer_id
                  else NewReversal(f"payout-reversal-{payout.id}", payout.psp_transfer_id, payout.amount,
                                   metadata=_metadata(payout)))


def _reversed(message: Claimed, plan: NewReversal, found: PspReversal) -> None:
    payout_updates.reversed_(message.payload["payout"], found.id)


REVERSE = PspWork[NewReversal, PspReversal](
    name=payouts.REVERSE_TOPIC, queue=Queue.DEFAULT, plan=_reversal_plans,
    call=lambda psp, request: psp.create_reversal(request), apply=_reversed,
    describe=lambda m: f"reversal of payout {m.payload['payout']}", batching=BULK)


@dataclass(frozen=True)
class _Poll:
    account_id: str
    payout_id: str


def _poll_plans(messages: list[Claimed]) -> list[_Poll | None]:
    return _plans(messages, lambda payout: _Poll(payout.psp_account_id, payout.psp_payout_id)
                  if payout.psp_payout_id else None)


def _polled(message: Claimed, plan: _Poll, found: PspPayout) -> None:
    payout_updates.apply_psp_payout(found, source="polled the PSP")


SYNC = PspWork[_Poll, PspPayout](
    name=payouts.SYNC_TOPIC, queue=Queue.LOW, plan=_poll_plans,
    call=lambda psp, poll: psp.retrieve_payout(poll.account_id, poll.payout_id), apply=_polled,
    describe=lambda m: f"sync payout {m.payload['payout']}", batching=BULK)

TOPICS = (TRANSFER, SUBMIT, REVERSE, SYNC)
