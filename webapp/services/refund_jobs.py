"""The refunds' outbox jobs: creating PSP refunds, and asking the PSP about a PaymentIntent's refunds.

PSP calls run on a small thread pool with no transaction open; each answer is then applied in its own short
transaction through `refunds.apply_psp_refund()`, the path webhooks take too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from webapp.domain.refunds import RefundStatus
from webapp.extensions import db
from webapp.models import PaymentOrder, PspCharge, PspSession, Refund
from webapp.psp import BATCH, NewRefund, Psp, PspError, PspRefund, call_each, get_psp
from webapp.services import funds, outbox, refunds
from webapp.services.outbox import BatchResult, Claimed
from webapp.services.refunds import CREATE_TOPIC, SYNC_TOPIC


@dataclass(frozen=True)
class _Plan:
    message: Claimed
    request: NewRefund | None  # None: nothing to send (the refund is no longer waiting for the PSP)
    session_id: str | None


def _payment_intent(event_id: str) -> tuple[str | None, str | None]:
    """The paid PaymentIntent of a checkout (from its charge, else its paid session), and that session's id."""
    charge = db.session.scalar(select(PspCharge.payment_intent_id).where(PspCharge.payment_event_id == event_id))
    paid = db.session.scalar(select(PspSession).where(PspSession.payment_event_id == event_id,
                                                      PspSession.payment_status == "paid"))
    return charge or (paid.payment_intent_id if paid else None), paid.id if paid else None


def _plans(messages: list[Claimed]) -> list[_Plan]:
    plans = []
    for message in messages:
        refund = db.session.get(Refund, message.payload["refund"])
        if refund is None or refund.status != RefundStatus.REQUESTED.value:
            plans.append(_Plan(message, None, None))
            continue
        intent, session_id = _payment_intent(refund.payment_event_id)
        order = db.session.get(PaymentOrder, refund.payment_order_id)
        metadata = {"refund_id": refund.id, "payment_event_id": refund.payment_event_id,
                    "payment_order_id": order.payment_order_id if order else ""}
        plans.append(_Plan(message, NewRefund(f"refund-{refund.id}", intent or "", refund.amount, refund.reason,
                                              metadata), session_id))
    db.session.rollback()
    return plans


def _create(psp: Psp, plan: _Plan) -> PspRefund | PspError | None:
    if plan.request is None:
        return None
    try:
        request = plan.request
        if not request.payment_intent_id and plan.session_id:
            intent = psp.retrieve_checkout_session(plan.session_id).payment_intent_id
            request = NewRefund(request.idempotency_key, intent or "", request.amount, request.reason, request.metadata)
        if not request.payment_intent_id:
            return PspError("the payment has no PaymentIntent to refund")
        return psp.create_refund(request)
    except PspError as exc:
        return exc


def create_due(limit: int = BATCH, psp: Psp | None = None) -> BatchResult:
    """Create up to `limit` requested refunds at the PSP and apply its answers."""
    batch = BatchResult()
    messages = outbox.claim(CREATE_TOPIC, limit)
    if not messages:
        return batch
    plans = _plans(messages)
    psp = psp or get_psp()
    results = call_each(plans, lambda plan: _create(psp, plan))
    for plan, result in zip(plans, results, strict=True):
        message = plan.message
        if isinstance(result, PspError) and result.retryable:
            if outbox.fail(message.id, message.attempts, f"{type(result).__name__}: {result.message}"):
                batch.dead.append(f"refund {message.payload['refund']}: {result.message}")
        else:
            if isinstance(result, PspError):  # refused by the PSP: the refund failed, the reservation goes back
                refund = db.session.get(Refund, message.payload["refund"])
                if refund is not None:
                    funds.lock_checkouts({refund.payment_event_id})
                    db.session.refresh(refund)
                    refunds.move(refund, RefundStatus.FAILED, source="refused by the PSP",
                          failure_reason=f"{result.code or 'refused'}: {result.message}")
            elif result is not None:
                refunds.apply_psp_refund(result, source="PSP refund created")
            outbox.complete(message.id)
        db.session.commit()
        batch.processed += 1
    return batch


def sync_due(limit: int = BATCH, psp: Psp | None = None) -> BatchResult:
    """List the refunds of PaymentIntents whose charge was refunded and apply each (same path as webhooks)."""
    batch = BatchResult()
    messages = outbox.claim(SYNC_TOPIC, limit)
    if not messages:
        return batch
    psp = psp or get_psp()

    def listed(message: Claimed) -> list[PspRefund] | PspError:
        try:
            return psp.list_refunds(message.payload["payment_intent"])
        except PspError as exc:
            return exc

    results = call_each(messages, listed)
    for message, result in zip(messages, results, strict=True):
        if isinstance(result, PspError):
            if outbox.fail(message.id, message.attempts, result.message, permanent=not result.retryable):
                batch.dead.append(f"refund sync {message.payload['payment_intent']}: {result.message}")
        else:
            for found in sorted(result, key=lambda r: r.metadata.get("payment_event_id", "")):
                refunds.apply_psp_refund(found, source="polled the PSP")
            outbox.complete(message.id)
        db.session.commit()
        batch.processed += 1
    return batch
