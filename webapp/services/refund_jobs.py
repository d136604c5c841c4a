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
from webapp.psp import NewRefund, Psp, PspError, PspRefund
from webapp.services import funds, refunds
from webapp.services.outbox import Claimed
from webapp.services.psp_work import PspWork
from webapp.services.refunds import CREATE_TOPIC, SYNC_TOPIC
from webapp.services.topics import Queue


@dataclass(frozen=True)
class _Plan:
    request: NewRefund
    session_id: str | None


def _payment_intent(event_id: str) -> tuple[str | None, str | None]:
    """The paid PaymentIntent of a checkout (from its charge, else its paid session), and that session's id."""
    charge = db.session.scalar(select(PspCharge.payment_intent_id).where(PspCharge.payment_event_id == event_id))
    paid = db.session.scalar(select(PspSession).where(PspSession.payment_event_id == event_id,
                                                      PspSession.payment_status == "paid"))
    return charge or (paid.payment_intent_id if paid else None), paid.id if paid else None


def _plans(messages: list[Claimed]) -> list[_Plan | None]:
    """None for a refund that is no longer waiting for the PSP."""
    plans: list[_Plan | None] = []
    for message in messages:
        refund = db.session.get(Refund, message.payload["refund"])
        if refund is None or refund.status != RefundStatus.REQUESTED.value:
            plans.append(None)
            continue
        intent, session_id = _payment_intent(refund.payment_event_id)
        order = db.session.get(PaymentOrder, refund.payment_order_id)
        metadata = {"refund_id": refund.id, "payment_event_id": refund.payment_event_id,
                    "payment_order_id": order.payment_order_id if order else ""}
        plans.append(_Plan(NewRefund(f"refund-{refund.id}", intent or "", refund.amount, refund.reason, metadata),
                           session_id))
    return plans


def _create(psp: Psp, plan: _Plan) -> PspRefund:
    request = plan.request
    if not request.payment_intent_id and plan.session_id:
        intent = psp.retrieve_checkout_session(plan.session_id).payment_intent_id
        request = NewRefund(request.idempotency_key, intent or "", request.amount, request.reason, request.metadata)
    if not request.payment_intent_id:
        raise PspError("the payment has no PaymentIntent to refund")
    return psp.create_refund(request)


def _created(message: Claimed, plan: _Plan, found: PspRefund) -> None:
    refunds.apply_psp_refund(found, source="PSP refund created")


def _refused(message: Claimed, plan: _Plan, error: PspError) -> None:
    """Refused by the PSP: the refund failed, and its reservation goes back."""
    refund = db.session.get(Refund, message.payload["refund"])
    if refund is not None:
        funds.lock_checkouts({refund.payment_event_id})
        db.session.refresh(refund)
        refunds.move(refund, RefundStatus.FAILED, source="refused by the PSP",
                     failure_reason=f"{error.code or 'refused'}: {error.message}")


def _listed(message: Claimed, payload: dict, found: list[PspRefund]) -> None:
    for refund in sorted(found, key=lambda r: r.metadata.get("payment_event_id", "")):
        refunds.apply_psp_refund(refund, source="polled the PSP")


# Creates requested refunds at the PSP and applies its answers.
CREATE = PspWork[_Plan, PspRefund](
    name=CREATE_TOPIC, queue=Queue.DEFAULT, plan=_plans, call=_create, apply=_created, refused=_refused,
    describe=lambda m: f"refund {m.payload['refund']}")

# Lists the refunds of PaymentIntents whose charge was refunded and applies each (the path webhooks take).
SYNC = PspWork[dict, list[PspRefund]](
    name=SYNC_TOPIC, queue=Queue.DEFAULT, call=lambda psp, payload: psp.list_refunds(payload["payment_intent"]),
    apply=_listed, describe=lambda m: f"refund sync {m.payload['payment_intent']}")

TOPICS = (CREATE, SYNC)
