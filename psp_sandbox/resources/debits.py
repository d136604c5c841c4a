"""Account debits: the platform takes money from a connected account's balance, as Stripe does when a
platform recovers a refund or dispute from a seller. Unlike a transfer reversal this is not limited by the
account's balance, so it can drive the balance negative (which is how negative balances arise on Stripe).

Booked as Stripe books an account debit: a transfer from the connected account to the platform (`transfer`,
-amount, on the account) and the payment it creates on the platform (`payment`, +amount).
"""

from __future__ import annotations

from psp_sandbox.context import Sandbox
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import events, ledger
from psp_sandbox.store import Row


def debit(sb: Sandbox, account: str, amount: int, currency: str, description: str | None) -> Row:
    now = sb.clock.now()
    transfer_id, payment_id = new_id("tr"), new_id("py")
    sent = ledger.record(sb, account, "transfer", -amount, currency, transfer_id, description=description)
    received = ledger.record(sb, PLATFORM_ACCOUNT, "payment", amount, currency, payment_id, description=description)
    transfer = {
        "id": transfer_id, "object": "transfer", "amount": amount, "amount_reversed": 0,
        "balance_transaction": sent["id"], "created": now, "currency": currency, "description": description,
        "destination": PLATFORM_ACCOUNT, "destination_payment": payment_id, "livemode": False, "metadata": {},
        "reversals": {"object": "list", "data": [], "has_more": False, "url": f"/v1/transfers/{transfer_id}/reversals"},
        "reversed": False, "source_transaction": None, "source_type": "card", "transfer_group": None,
    }
    row = sb.store.insert(transfer, account)
    payment = {
        "id": payment_id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
        "balance_transaction": received["id"], "captured": True, "created": now, "currency": currency,
        "description": description, "livemode": False, "metadata": {}, "paid": True, "refunded": False,
        "payment_method_details": {"type": "stripe_account", "stripe_account": {}}, "source_transfer": transfer_id,
        "status": "succeeded",
    }
    sb.store.insert(payment, PLATFORM_ACCOUNT)
    events.emit(sb, "transfer.created", row, account)
    return row
