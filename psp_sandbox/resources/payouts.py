"""Payouts from an account's available balance to its bank: `pending → in_transit → paid | failed`.

Progress follows the sandbox clock. A payout to one of the failing test IBANs (see accounts.py) fails
on its arrival date and its amount returns to the available balance.
"""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, no_such
from psp_sandbox.ids import new_id
from psp_sandbox.resources import accounts, events, ledger
from psp_sandbox.store import Row

INSUFFICIENT = (
    "You have insufficient funds in your Stripe account for this transfer. Your card balance is too low. You can use "
    "the /v1/balance endpoint to view your Stripe balance."
)


def create(sb: Sandbox, params: dict, account: str) -> Row:
    amount = p.integer(params, "amount", required=True, minimum=1)
    assert amount is not None
    currency = p.currency(params, required=False) or accounts.default_currency(sb, account)
    bank = _destination(sb, params, account)
    if ledger.available(sb, account, currency) < amount:
        raise invalid(INSUFFICIENT, "amount", "balance_insufficient")
    now = sb.clock.now()
    payout_id = new_id("po")
    debit = ledger.record(sb, account, "payout", -amount, currency, payout_id)
    payout = {
        "id": payout_id, "object": "payout", "amount": amount, "arrival_date": now + sb.settings.payout_arrival_delay,
        "automatic": False, "balance_transaction": debit["id"], "created": now, "currency": currency,
        "description": p.string(params, "description"), "destination": bank["id"],
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None, "livemode": False,
        "metadata": p.metadata(params), "method": p.choice(params, "method", ["standard"], default="standard"),
        "original_payout": None, "reconciliation_status": "not_applicable", "reversed_by": None,
        "source_type": "card", "statement_descriptor": p.string(params, "statement_descriptor"),
        "status": "pending", "type": "bank_account",
    }
    row = sb.store.insert(payout, account)
    sb.store.add_timer(now + sb.settings.payout_transit_delay, "payout_in_transit", payout_id)
    sb.store.add_timer(payout["arrival_date"], "payout_arrives", payout_id)
    events.emit(sb, "payout.created", row, account)
    return row


def _destination(sb: Sandbox, params: dict, account: str) -> Row:
    bank_id = p.string(params, "destination")
    bank = sb.store.get(bank_id, account, "bank_account") if bank_id else accounts.default_bank_account(sb, account)
    if bank is None:
        if bank_id:
            raise no_such("bank account", bank_id, "destination")
        raise invalid("This account has no bank account to pay out to.", "destination", "no_external_account")
    return bank


def in_transit(sb: Sandbox, payout_id: str) -> None:
    row = sb.store.get(payout_id, type_="payout")
    if row is None or row["status"] != "pending":
        return
    row["status"] = "in_transit"
    sb.store.save(row)
    events.emit(sb, "payout.updated", row, row.account, previous={"status": "pending"})


def arrive(sb: Sandbox, payout_id: str) -> None:
    row = sb.store.get(payout_id, type_="payout")
    if row is None or row["status"] not in ("pending", "in_transit"):
        return
    previous = {"status": row["status"]}
    bank = sb.store.get(row["destination"], row.account, "bank_account")
    failure = bank.private.get("payout_failure") if bank else None
    if failure:
        returned = ledger.record(sb, row.account, "payout_failure", row["amount"], row["currency"], payout_id)
        row.update(status="failed", failure_code=failure[0], failure_message=failure[1],
                   failure_balance_transaction=returned["id"])
        sb.store.save(row)
        events.emit(sb, "payout.updated", row, row.account, previous=previous)
        events.emit(sb, "payout.failed", row, row.account)
        return
    row["status"] = "paid"
    sb.store.save(row)
    events.emit(sb, "payout.updated", row, row.account, previous=previous)
    events.emit(sb, "payout.paid", row, row.account)


def get(sb: Sandbox, payout_id: str, account: str) -> Row:
    row = sb.store.get(payout_id, account, "payout")
    if row is None:
        raise no_such("payout", payout_id)
    return row

