"""PSP events about money after the payment: refunds and funds becoming available. Applied by the inbox
(`inbox._apply`) inside its per-event savepoint, like the checkout session events.

- `refund.created`, `refund.updated`, `refund.failed`, `charge.refund.updated` carry the refund: applied at
  once (our refund is found by the `refund_id` we put in its metadata, else by the PSP's refund id).
- `charge.refunded` carries the charge: a `refunds.sync` job lists the PaymentIntent's refunds, so a lost
  `refund.*` event cannot leave a refund unsettled.
- `balance.available` of the platform account (events of connected accounts carry `account`): its `created`
  time is the watermark up to which funds are available; an `ledger.available` job applies it.
"""

from __future__ import annotations

import json

from webapp.psp import PspRefund
from webapp.services import funds, refunds

REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"})
HANDLED = REFUND_EVENTS | {"charge.refunded", "balance.available"}


def _refund(obj: dict) -> PspRefund:
    intent = obj.get("payment_intent")
    return PspRefund(id=obj["id"], status=obj.get("status"), amount=int(obj.get("amount") or 0),
                     currency=str(obj.get("currency") or "").upper(),
                     payment_intent_id=intent if isinstance(intent, str) else None,
                     failure_reason=obj.get("failure_reason"), metadata=dict(obj.get("metadata") or {}))


def apply(event_type: str, event: dict, psp_event_id: str) -> str:
    """Apply one stored PSP event of a type in HANDLED; returns what happened (kept on the inbox row)."""
    obj = (event.get("data") or {}).get("object") or {}
    if event.get("account"):
        return "ignored_connected_account"
    if event_type in REFUND_EVENTS:
        return refunds.apply_psp_refund(_refund(obj), source=event_type, psp_event_id=psp_event_id)
    if event_type == "charge.refunded":
        intent = obj.get("payment_intent")
        return refunds.note_charge_refunded(intent if isinstance(intent, str) else None, psp_event_id)
    return funds.note_balance_available(int(event.get("created") or 0), psp_event_id)


def checkout_of(event_type: str, payload: str) -> str | None:
    """The checkout an event's handler will lock, from the metadata we gave the PSP: the inbox sorts its batch
    by it, so concurrent workers take checkout locks in one order."""
    if event_type not in REFUND_EVENTS:
        return None
    obj = (json.loads(payload).get("data") or {}).get("object") or {}
    return (obj.get("metadata") or {}).get("payment_event_id")
