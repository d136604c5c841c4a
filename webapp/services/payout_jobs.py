"""Payouts' PSP work: the transfer to the seller's connected account, the payout to its bank, the reversal of a
transfer whose payout did not reach the bank, and polling the PSP for payouts whose news may be lost.

Idempotency keys come from the payout row (`payout-transfer-<id>`, `payout-<id>`, `payout-reversal-<id>`): a
retried job, or a worker killed between the call and recording its answer, never moves money twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.domain.payouts import PayoutStatus
from webapp.extensions import db
from webapp.models import Payout
from webapp.psp import NewPayout, NewReversal, NewTransfer, PspError, PspPayout, PspReversal, PspTransfer
from webapp.services import payouts
from webapp.services.outbox import Claimed
from webapp.services.psp_work import Batching, PspWork
from webapp.services.topics import Queue

# A payout run creates thousands of payouts at once: larger batches, more calls in flight, and each batch's
# answers applied in one transaction (each payout touches its own row), in payout order.
BULK = Batching(batch=64, concurrency=16, together=True, sort_key=lambda message: message.payload["payout"])


def _metadata(payout: Payout) -> dict[str, str]:
    return {"payout_id": payout.id, "seller_account_id": payout.seller_account_id, "merchant_id": payout.merchant_id}


def _load(messages: list[Claimed]) -> dict[str, Payout]:
    ids = [m.payload["payout"] for m in messages]
    return {p.id: p for p in db.session.query(Payout).filter(Payout.id.in_(ids))}


def _transfer_plans(messages: list[Claimed]) -> list[NewTransfer | None]:
    found = _load(messages)
    plans: list[NewTransfer | None] = []
    for message in messages:
        payout = found.get(message.payload["payout"])
        if payout is None or payout.psp_transfer_id or PayoutStatus(payout.status) is not PayoutStatus.PENDING:
            plans.append(None)
            continue
        plans.append(NewTransfer(f"payout-transfer-{payout.id}", payout.psp_account_id, payout.amount, payout.currency,
                                 transfer_group=payout.id, metadata=_metadata(payout)))
    return plans


def _transferred(message: Claimed, plan: NewTransfer, found: PspTransfer) -> None:
    payouts.transferred(message.payload["payout"], found.id)


def _refused(message: Claimed, plan: object, error: PspError) -> None:
    payouts.refused(message.payload["payout"], error.code, error.message)


TRANSFER = PspWork[NewTransfer, PspTransfer](
    name=payouts.TRANSFER_TOPIC, queue=Queue.DEFAULT, plan=_transfer_plans,
    call=lambda psp, request: psp.create_transfer(request), apply=_transferred, refused=_refused,
    describe=lambda m: f"transfer of payout {m.payload['payout']}", batching=BULK)


def _payout_plans(messages: list[Claimed]) -> list[NewPayout | None]:
    found = _load(messages)
    plans: list[NewPayout | None] = []
    for message in messages:
        payout = found.get(message.payload["payout"])
        if payout is None or payout.psp_payout_id or PayoutStatus(payout.status) is not PayoutStatus.PENDING:
            plans.append(None)
            continue
        plans.append(NewPayout(f"payout-{payout.id}", payout.psp_account_id, payout.amount, payout.currency,
                               description=f"Payout {payout.id}", metadata=_metadata(payout)))
    return plans


def _submitted(message: Claimed, plan: NewPayout, found: PspPayout) -> None:
    payouts.apply_psp_payout(found, source="PSP payout created")


SUBMIT = PspWork[NewPayout, PspPayout](
    name=payouts.SUBMIT_TOPIC, queue=Queue.DEFAULT, plan=_payout_plans,
    call=lambda psp, request: psp.create_payout(request), apply=_submitted, refused=_refused,
    describe=lambda m: f"payout {m.payload['payout']}", batching=BULK)


def _reversal_plans(messages: list[Claimed]) -> list[NewReversal | None]:
    found = _load(messages)
    plans: list[NewReversal | None] = []
    for message in messages:
        payout = found.get(message.payload["payout"])
        if payout is None or payout.psp_reversal_id or not payout.psp_transfer_id:
            plans.append(None)
            continue
        plans.append(NewReversal(f"payout-reversal-{payout.id}", payout.psp_transfer_id, payout.amount,
                                 metadata=_metadata(payout)))
    return plans


def _reversed(message: Claimed, plan: NewReversal, found: PspReversal) -> None:
    payouts.reversed_(message.payload["payout"], found.id)


REVERSE = PspWork[NewReversal, PspReversal](
    name=payouts.REVERSE_TOPIC, queue=Queue.DEFAULT, plan=_reversal_plans,
    call=lambda psp, request: psp.create_reversal(request), apply=_reversed,
    describe=lambda m: f"reversal of payout {m.payload['payout']}", batching=BULK)


@dataclass(frozen=True)
class _Poll:
    account_id: str
    payout_id: str


def _poll_plans(messages: list[Claimed]) -> list[_Poll | None]:
    found = _load(messages)
    plans: list[_Poll | None] = []
    for message in messages:
        payout = found.get(message.payload["payout"])
        plans.append(_Poll(payout.psp_account_id, payout.psp_payout_id) if payout and payout.psp_payout_id else None)
    return plans


def _polled(message: Claimed, plan: _Poll, found: PspPayout) -> None:
    payouts.apply_psp_payout(found, source="polled the PSP")


SYNC = PspWork[_Poll, PspPayout](
    name=payouts.SYNC_TOPIC, queue=Queue.LOW, plan=_poll_plans,
    call=lambda psp, poll: psp.retrieve_payout(poll.account_id, poll.payout_id), apply=_polled,
    describe=lambda m: f"sync payout {m.payload['payout']}", batching=BULK)

TOPICS = (TRANSFER, SUBMIT, REVERSE, SYNC)
