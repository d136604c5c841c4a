"""Refunds of a succeeded charge: full or partial, several per charge up to the captured amount.

A refund is paid out of the platform's available balance at once. Stripe does not return the
processing fee of a refunded card payment, and neither does the sandbox.
"""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, missing, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import events, ledger
from psp_sandbox.store import Row

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def create(sb: Sandbox, params: dict) -> Row:
    charge = _charge_of(sb, params)
    remaining = charge["amount_captured"] - charge["amount_refunded"]
    if remaining <= 0:
        raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    amount = p.integer(params, "amount", minimum=1) or remaining
    if amount > remaining:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining}).", "amount",
            "amount_too_large",
        )
    refund_id = new_id("re")
    transaction = ledger.record(sb, PLATFORM_ACCOUNT, "refund", -amount, charge["currency"], refund_id)
    refund = {
        "id": refund_id, "object": "refund", "amount": amount, "balance_transaction": transaction["id"],
        "charge": charge["id"], "created": sb.clock.now(), "currency": charge["currency"],
        "metadata": p.metadata(params), "payment_intent": charge["payment_intent"],
        "reason": p.choice(params, "reason", REASONS), "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
    }
    row = sb.store.insert(refund, PLATFORM_ACCOUNT)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
    sb.store.save(charge)
    if charge.private.get("refund_fails"):
        sb.store.add_timer(sb.clock.now() + sb.settings.refund_failure_delay, "refund_fails", refund_id)
    events.emit(sb, "charge.refunded", charge)
    events.emit(sb, "refund.created", row)
    return row


def _charge_of(sb: Sandbox, params: dict) -> Row:
    charge_id = p.string(params, "charge")
    intent_id = p.string(params, "payment_intent")
    if not charge_id and not intent_id:
        raise missing("payment_intent")
    if intent_id:
        intent = sb.store.get(intent_id, PLATFORM_ACCOUNT, "payment_intent")
        if intent is None:
            raise no_such("payment_intent", intent_id, "payment_intent")
        if intent["status"] != "succeeded":
            raise invalid(f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                          "payment_intent", "charge_not_refundable")
        charge_id = intent["latest_charge"]
    charge = sb.store.get(charge_id or "", PLATFORM_ACCOUNT, "charge")
    if charge is None:
        raise no_such("charge", charge_id or "", "charge")
    if charge["status"] != "succeeded":
        raise invalid(f"Charge {charge['id']} has not succeeded and cannot be refunded.", "charge",
                      "charge_not_refundable")
    return charge


def fail(sb: Sandbox, refund_id: str) -> None:
    """The refund bounces (Stripe's 4000 0000 0000 5126): the money comes back to the platform."""
    refund = sb.store.get(refund_id, type_="refund")
    if refund is None or refund["status"] != "succeeded":
        return
    transaction = ledger.record(sb, PLATFORM_ACCOUNT, "refund_failure", refund["amount"], refund["currency"],
                                refund_id)
    refund.update(status="failed", failure_reason="expired_or_canceled_card",
                  failure_balance_transaction=transaction["id"])
    sb.store.save(refund)
    charge = sb.store.get(refund["charge"], type_="charge")
    if charge is not None:
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        sb.store.save(charge)
    events.emit(sb, "refund.updated", refund, previous={"status": "succeeded"})
    events.emit(sb, "refund.failed", refund)
    if charge is not None:
        events.emit(sb, "charge.refund.updated", refund)
