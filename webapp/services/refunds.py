"""Refunds: requested by the merchant (API or portal), created at the PSP by an outbox job, driven by webhooks.

1. `request()` — in one transaction under the checkout's row lock: checks the order is paid and the amount
   is at most what is left, splits it between the seller's wallet and the platform fee (REFUND_FEE_POLICY),
   locks the ledger accounts it touches and refuses when the wallet side holding the order's money cannot
   cover the seller's share (wallets never go below zero), then records the refund as `requested`, posts the
   reservation and queues `refunds.create`.
2. `refund_jobs.CREATE` — creates the PSP refunds through the SDK (thread pool, no transaction open), with
   the idempotency key `refund-<our id>` and our ids in its metadata, and applies the answer.
3. `apply_psp_refund()` — the one path for news about a PSP refund (the create call's answer, `refund.*`
   webhooks, and `refunds.sync`, which lists a PaymentIntent's refunds after `charge.refunded`): moves the
   status by the table in webapp.domain.refunds and posts what the move means for the money.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select

from webapp.dbtypes import new_id
from webapp.domain import ledger as rules
from webapp.domain.errors import NotFound, ValidationError
from webapp.domain.money import Money
from webapp.domain.payments import OrderStatus
from webapp.domain.refunds import ACTIVE, LedgerEffect, RefundRequest, RefundStatus, from_psp, next_status
from webapp.domain.wallets import Funds, RefundPolicy, Split, may_go_negative, refund_split, refundable
from webapp.extensions import db
from webapp.models import (
    Merchant,
    OrderFunds,
    PaymentActivity,
    PaymentEvent,
    PaymentOrder,
    Refund,
)
from webapp.ops import metrics_flow
from webapp.ops.metrics_flow import Flow
from webapp.psp import PspRefund
from webapp.services import audit, funds, idempotency, ledger, outbox, webhook_events
from webapp.services.ledger import Links

log = logging.getLogger(__name__)

CREATE_TOPIC = "refunds.create"
SYNC_TOPIC = "refunds.sync"


class WalletInsufficient(ValidationError):
    code = "wallet_balance_insufficient"


class NotRefundable(ValidationError):
    code = "payment_order_not_refundable"


def _note(refund: Refund, detail: str, psp_event_id: str | None = None) -> None:
    db.session.add(PaymentActivity(payment_event_id=refund.payment_event_id, kind="refund", detail=detail[:500],
                                   psp_event_id=psp_event_id))


def _money(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


def active_splits(payment_order_id: str) -> list[Split]:
    return [Split(r.seller_share, r.fee_share) for r in db.session.scalars(
        select(Refund).where(Refund.payment_order_id == payment_order_id,
                             Refund.status.in_([s.value for s in ACTIVE])))]


def refundable_amount(order: PaymentOrder) -> int:
    """What can still be refunded of this order (0 until it is captured)."""
    captured = db.session.get(OrderFunds, order.id)
    return refundable(captured.amount, active_splits(order.id)) if captured else 0


def _reserve(merchant: Merchant, checkout_id: str, command: RefundRequest, source: str) -> Refund:
    event = db.session.scalar(select(PaymentEvent).where(PaymentEvent.merchant_id == merchant.id,
                                                         PaymentEvent.checkout_id == checkout_id))
    if event is None:
        raise NotFound(f"No such payment: {checkout_id!r}.", param="checkout_id")
    funds.lock_checkouts({event.id})
    order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.payment_event_id == event.id,
                                                         PaymentOrder.payment_order_id == command.payment_order_id)
                              .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(f"Payment {checkout_id!r} has no payment order {command.payment_order_id!r}.",
                       param="payment_order_id")
    captured = db.session.get(OrderFunds, order.id, populate_existing=True)
    if order.status != OrderStatus.SUCCESS or captured is None:
        raise NotRefundable(f"Payment order {order.payment_order_id!r} is {order.status}; only paid orders can be "
                            "refunded.", param="payment_order_id")
    earlier = active_splits(order.id)
    left = refundable(captured.amount, earlier)
    if left <= 0:
        raise NotRefundable(f"Payment order {order.payment_order_id!r} has already been refunded in full.",
                            param="payment_order_id", code="payment_order_fully_refunded")
    amount = Money.parse(command.amount, order.currency).minor if command.amount else left
    if amount <= 0:
        raise ValidationError("Refund amount must be greater than zero.", param="amount", code="amount_too_small")
    if amount > left:
        raise ValidationError(f"Refund amount {_money(amount, order.currency)} is more than the "
                              f"{_money(left, order.currency)} left to refund on payment order "
                              f"{order.payment_order_id!r}.", param="amount", code="amount_too_large")
    split = refund_split(captured.amount, captured.platform_fee, earlier, amount,
                         RefundPolicy(current_app.config["REFUND_FEE_POLICY"]))
    side = Funds(captured.funds)
    wallet = rules.wallet(order.seller_account_id, side, order.currency)
    balances = ledger.lock([wallet, rules.platform(rules.AccountKind.FEE_REVENUE, order.currency),
                            rules.platform(rules.AccountKind.REFUNDS, order.currency)])
    if not may_go_negative(side) and balances[wallet.code] < split.seller_share:
        held = _money(balances[wallet.code], order.currency)
        raise WalletInsufficient(
            f"The wallet of seller account {order.seller_account_id} holds {held} {side.value}, less than the "
            f"{_money(split.seller_share, order.currency)} this refund takes from it.", param="amount")
    refund = Refund(id=new_id("rfd", 20), merchant_id=merchant.id, payment_event_id=event.id,
                    payment_order_id=order.id, seller_account_id=order.seller_account_id, currency=order.currency,
                    amount=amount, seller_share=split.seller_share, fee_share=split.fee_share, funds=side.value,
                    reason=command.reason, source=source, status=RefundStatus.REQUESTED.value)
    db.session.add(refund)
    db.session.flush()
    metrics_flow.reached(Flow.REFUND, refund.id, refund.status, refund.currency, refund.amount)
    ledger.post(rules.refund_reserved(refund.id, order.seller_account_id, side, order.currency, split.seller_share,
                                      split.fee_share), Links(event.id, order.id, refund.id))
    if side is Funds.PENDING:
        captured.seller_pending -= split.seller_share
    _note(refund, f"Refund {refund.id} of {_money(amount, order.currency)} requested for order "
          f"{order.payment_order_id} ({source})")
    outbox.add(CREATE_TOPIC, f"refund:{refund.id}", {"refund": refund.id})
    audit.note("refund.create", "refund", refund.id, {"payment": event.id, "checkout_id": checkout_id,
               "payment_order_id": order.payment_order_id, "amount": amount, "currency": order.currency,
               "source": source, "merchant": merchant.id})
    return refund


def request(merchant: Merchant, checkout_id: str, command: RefundRequest, idempotency_key: str | None,
            render: Callable[[Refund], dict], source: str = "api") -> idempotency.StoredResponse:
    """Refund (part of) a paid payment order: 201 with the refund, or a 4xx naming the problem."""

    def action() -> tuple[int, dict]:
        return 201, render(_reserve(merchant, checkout_id, command, source))

    return idempotency.run(merchant.id, idempotency_key, f"POST /v1/payments/{checkout_id}/refunds",
                           command.request_hash, action)


def for_payment(payment_event_id: str) -> list[Refund]:
    return for_payments([payment_event_id]).get(payment_event_id, [])


def for_payments(payment_event_ids: list[str]) -> dict[str, list[Refund]]:
    """The refunds of several payments in one query (a page of the payments list), oldest first."""
    found: dict[str, list[Refund]] = {}
    for refund in db.session.scalars(select(Refund).where(Refund.payment_event_id.in_(payment_event_ids))
                                     .order_by(Refund.created_at, Refund.id)):
        found.setdefault(refund.payment_event_id, []).append(refund)
    return found


# Applying news from the PSP.

def move(refund: Refund, reported: RefundStatus, *, source: str, failure_reason: str | None = None,
          psp_event_id: str | None = None) -> str:
    """Move `refund` (its checkout locked by the caller) and post what the move means for the money."""
    transition = next_status(RefundStatus(refund.status), reported)
    if not transition.changed:
        return f"{reported.value}:no_change"
    refund.status = transition.after.value
    metrics_flow.reached(Flow.REFUND, refund.id, refund.status, refund.currency, refund.amount)
    effect = transition.effect
    links = Links(refund.payment_event_id, refund.payment_order_id, refund.id)
    if effect is LedgerEffect.PAID:
        ledger.post(rules.refund_paid(refund.id, refund.currency, refund.amount), links)
    elif effect is not None:
        refund.failure_reason = (failure_reason or "failed")[:300]
        captured = db.session.get(OrderFunds, refund.payment_order_id, populate_existing=True)
        assert captured is not None
        side = Funds(captured.funds)  # where the order's money is now, which may differ from where it was
        if side is Funds.PENDING:
            captured.seller_pending += refund.seller_share
        rule = rules.refund_returned if effect is LedgerEffect.RETURNED else rules.refund_released
        ledger.post(rule(refund.id, refund.seller_account_id, side, refund.currency, refund.seller_share,
                         refund.fee_share), links)
    webhook_events.refund_changed(refund)
    _note(refund, f"Refund {refund.id}: {transition.before.value} → {transition.after.value} ({source})", psp_event_id)
    return f"{transition.after.value}:applied"


def apply_psp_refund(found: PspRefund, *, source: str, psp_event_id: str | None = None) -> str:
    """Apply what the PSP says about one of its refunds (caller commits). Returns what happened."""
    refund_id = found.metadata.get("refund_id")
    refund = db.session.get(Refund, refund_id) if refund_id else db.session.scalar(
        select(Refund).where(Refund.psp_refund_id == found.id))
    if refund is None:
        return "unknown_refund"
    funds.lock_checkouts({refund.payment_event_id})
    db.session.refresh(refund)
    if refund.psp_refund_id is None:
        refund.psp_refund_id = found.id
    elif refund.psp_refund_id != found.id:
        log.warning("PSP refund %s names our refund %s, which is %s", found.id, refund.id, refund.psp_refund_id)
        return "other_psp_refund"
    reported = from_psp(found.status)
    if reported is None:
        return "no_change"
    return move(refund, reported, source=source, failure_reason=found.failure_reason, psp_event_id=psp_event_id)


def note_charge_refunded(payment_intent_id: str | None, psp_event_id: str) -> str:
    """`charge.refunded`: ask the PSP for the PaymentIntent's refunds, in case some `refund.*` news is lost."""
    if not payment_intent_id:
        return "no_payment_intent"
    outbox.add(SYNC_TOPIC, f"refund-sync:{psp_event_id}", {"payment_intent": payment_intent_id})
    return "sync_queued"
