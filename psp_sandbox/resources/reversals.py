"""Transfer reversals: the platform takes back all or part of a transfer from the connected account.

Each reversal books `transfer_refund` (+amount) on the platform and refunds the transfer's destination payment
(`py_…`) on the connected account: a `pyr_…` refund with a `payment_refund` (-amount) balance transaction. The
connected account's available balance must cover the reversal (Stripe's `balance_insufficient` otherwise),
except while the transfer's own funds are still pending (a transfer funded by a charge whose funds are not yet
available): then the reversal comes out of those pending funds, on both sides.
"""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.lists import envelope
from psp_sandbox.resources import events, ledger, metadata
from psp_sandbox.store import Row

EMBEDDED = 10  # a transfer embeds its newest reversals, like Stripe's sublists


def create(sb: Sandbox, transfer: Row, params: dict) -> Row:
    remaining = transfer["amount"] - transfer["amount_reversed"]
    if remaining <= 0:
        raise invalid(f"Transfer {transfer['id']} has already been fully reversed.")
    amount = p.integer(params, "amount", minimum=1) or remaining
    if amount > remaining:
        raise invalid(f"Reversal amount ({amount}) is greater than the amount left on the transfer ({remaining}).",
                      "amount", "amount_too_large")
    account, currency = transfer["destination"], transfer["currency"]
    payment = sb.store.get(transfer["destination_payment"], account, "charge")
    received = sb.store.get(payment["balance_transaction"], account, "balance_transaction") if payment else None
    pending_until = received["available_on"] if received and received["status"] == "pending" else None
    if pending_until is None and ledger.available(sb, account, currency) < amount:
        raise invalid(f"Insufficient funds in the destination account {account} to reverse this transfer: its "
                      f"available balance ({ledger.available(sb, account, currency)} {currency}) is less than the "
                      f"reversal ({amount} {currency}).", "amount", "balance_insufficient")
    description = p.string(params, "description")
    reversal_id, refund_id = new_id("trr"), new_id("pyr")
    back = ledger.record(sb, PLATFORM_ACCOUNT, "transfer_refund", amount, currency, reversal_id,
                         description=description, available_on=pending_until)
    taken = ledger.record(sb, account, "payment_refund", -amount, currency, refund_id, description=description,
                          available_on=pending_until)
    now = sb.clock.now()
    if payment is not None:
        _refund_destination_payment(sb, payment, refund_id, taken["id"], amount, now)
    reversal = {
        "id": reversal_id, "object": "transfer_reversal", "amount": amount, "balance_transaction": back["id"],
        "created": now, "currency": currency, "destination_payment_refund": refund_id,
        "metadata": p.metadata(params), "source_refund": None, "transfer": transfer["id"],
    }
    row = sb.store.insert(reversal, PLATFORM_ACCOUNT)
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
    refresh_list(sb, transfer)
    sb.store.save(transfer)
    events.emit(sb, "transfer.reversed", transfer)
    return row


def _refund_destination_payment(sb: Sandbox, payment: Row, refund_id: str, transaction: str, amount: int,
                                now: int) -> None:
    refund = {
        "id": refund_id, "object": "refund", "amount": amount, "balance_transaction": transaction,
        "charge": payment["id"], "created": now, "currency": payment["currency"], "metadata": {},
        "payment_intent": None, "reason": None, "receipt_number": None, "source_transfer_reversal": None,
        "status": "succeeded", "transfer_reversal": None,
    }
    sb.store.insert(refund, payment.account)
    payment["amount_refunded"] += amount
    payment["refunded"] = payment["amount_refunded"] == payment["amount"]
    sb.store.save(payment)


def refresh_list(sb: Sandbox, transfer: Row) -> None:
    rows = sb.store.select("type = 'transfer_reversal' AND account = ? AND json_extract(data, '$.transfer') = ?",
                           [PLATFORM_ACCOUNT, transfer["id"]], limit=EMBEDDED + 1)
    listed = envelope([dict(row) for row in rows[:EMBEDDED]], len(rows) > EMBEDDED,
                      f"/v1/transfers/{transfer['id']}/reversals")
    listed["total_count"] = _count(sb, transfer["id"])
    transfer["reversals"] = listed


def _count(sb: Sandbox, transfer_id: str) -> int:
    return sb.store.conn().execute(
        "SELECT COUNT(*) FROM objects WHERE type = 'transfer_reversal' AND json_extract(data, '$.transfer') = ?",
        (transfer_id,),
    ).fetchone()[0]


def get(sb: Sandbox, transfer: Row, reversal_id: str) -> Row:
    row = sb.store.get(reversal_id, PLATFORM_ACCOUNT, "transfer_reversal")
    if row is None or row["transfer"] != transfer["id"]:
        raise no_such("transfer_reversal", reversal_id)
    return row


def update(sb: Sandbox, transfer: Row, reversal_id: str, params: dict) -> Row:
    row = get(sb, transfer, reversal_id)
    if "metadata" in params:
        row["metadata"] = metadata.merged(row["metadata"], params)
        sb.store.save(row)
        refresh_list(sb, transfer)
        sb.store.save(transfer)
    return row


def update_transfer(sb: Sandbox, transfer: Row, params: dict) -> Row:
    """`POST /v1/transfers/{id}`: description and metadata, announced by `transfer.updated`."""
    previous: dict = {}
    if "description" in params:
        previous["description"] = transfer["description"]
        transfer["description"] = p.string(params, "description")
    if "metadata" in params:
        previous["metadata"] = transfer["metadata"]
        transfer["metadata"] = metadata.merged(transfer["metadata"], params)
    previous = {key: value for key, value in previous.items() if transfer[key] != value}
    sb.store.save(transfer)
    if previous:
        events.emit(sb, "transfer.updated", transfer, previous=previous)
    return transfer
