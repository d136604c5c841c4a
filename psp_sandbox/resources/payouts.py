"""Payouts from an account's balance to its bank: `pending → in_transit → paid | failed`, or `canceled` while
pending.

Progress follows the sandbox clock. A payout to a failing test IBAN (external_accounts.py) fails on its
arrival date; the late-failure IBAN's payout is `paid` first and `failed` a day later. Either way the amount
returns to the balance with a `payout_failure` balance transaction and the bank account becomes `errored`.
"""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError, invalid, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import events, external_accounts, ledger
from psp_sandbox.store import Row

DAY = 86_400
INSUFFICIENT = (
    "You have insufficient funds in your Stripe account for this transfer. Your card balance is too low. You can use "
    "the /v1/balance endpoint to view your Stripe balance."
)


def create(sb: Sandbox, params: dict, account: str) -> Row:
    """A manual payout (`automatic: false`) of the account's available balance."""
    amount = p.integer(params, "amount", required=True, minimum=1)
    assert amount is not None
    connected = sb.store.get(account, PLATFORM_ACCOUNT, "account") if account != PLATFORM_ACCOUNT else None
    currency = p.currency(params, required=False) or (connected["default_currency"] if connected
                                                      else sb.settings.platform_currency)
    if connected is not None and not connected["payouts_enabled"]:
        reason = connected["requirements"]["disabled_reason"] or "requirements.past_due"
        raise StripeError(400, "invalid_request_error", f"Payouts are disabled on this account ({reason}). Provide "
                          f"the information in `requirements.currently_due` to enable them.",
                          code="payouts_not_allowed")
    bank = _destination(sb, params, account, currency)
    if ledger.available(sb, account, currency) < amount:
        raise invalid(INSUFFICIENT, "amount", "balance_insufficient")
    return open_payout(sb, account, amount, currency, bank, automatic=False, params=params)


def open_payout(sb: Sandbox, account: str, amount: int, currency: str, bank: Row, *, automatic: bool,
                params: dict | None = None) -> Row:
    """Debit the balance and start the payout's journey; `amount` < 0 is a debit of the bank account."""
    params = params or {}
    now = sb.clock.now()
    payout_id = new_id("po")
    debit = ledger.record(sb, account, "payout", -amount, currency, payout_id,
                          description="STRIPE PAYOUT" if automatic else p.string(params, "description"),
                          private={"automatic_payout": payout_id} if automatic else None)
    payout = {
        "id": payout_id, "object": "payout", "amount": amount, "application_fee": None,
        "application_fee_amount": None, "arrival_date": now + sb.settings.payout_arrival_delay,
        "automatic": automatic, "balance_transaction": debit["id"], "created": now, "currency": currency,
        "description": "STRIPE PAYOUT" if automatic else p.string(params, "description"),
        "destination": bank["id"], "failure_balance_transaction": None, "failure_code": None,
        "failure_message": None, "livemode": False, "metadata": p.metadata(params),
        "method": p.choice(params, "method", ["standard"], default="standard"), "original_payout": None,
        "reconciliation_status": "in_progress" if automatic else "not_applicable", "reversed_by": None,
        "source_type": "card", "statement_descriptor": p.string(params, "statement_descriptor"),
        "status": "pending", "trace_id": {"status": "pending", "value": None}, "type": "bank_account",
    }
    row = sb.store.insert(payout, account)
    sb.store.add_timer(now + sb.settings.payout_transit_delay, "payout_in_transit", payout_id)
    sb.store.add_timer(payout["arrival_date"], "payout_arrives", payout_id)
    events.emit(sb, "payout.created", row, account)
    return row


def _destination(sb: Sandbox, params: dict, account: str, currency: str) -> Row:
    bank_id = p.string(params, "destination")
    bank = sb.store.get(bank_id, account, "bank_account") if bank_id else external_accounts.default_for(
        sb, account, currency)
    if bank is None:
        if bank_id:
            raise no_such("bank account", bank_id, "destination")
        raise invalid(f"You do not have a bank account for {currency.upper()} to pay out to.", "destination",
                      "no_external_account")
    return bank


def cancel(sb: Sandbox, payout_id: str, account: str) -> Row:
    """Stripe cancels only pending, manual payouts; the money returns to the available balance."""
    row = get(sb, payout_id, account)
    if row["automatic"]:
        raise invalid("Automatic payouts cannot be canceled.")
    if row["status"] != "pending":
        raise invalid(f"Payouts can only be canceled while they are pending; this payout is {row['status']}.")
    returned = ledger.record(sb, account, "payout_cancel", row["amount"], row["currency"], payout_id,
                             description="Payout canceled")
    row.update(status="canceled", failure_balance_transaction=returned["id"],
               trace_id={"status": "unsupported", "value": None})
    sb.store.save(row)
    events.emit(sb, "payout.updated", row, account, previous={"status": "pending"})
    events.emit(sb, "payout.canceled", row, account)
    return row


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
    bank = sb.store.get(row["destination"], row.account, "bank_account")
    failure = external_accounts.payout_failure(bank) if bank else None
    if failure and not failure.late:
        _fail(sb, row, failure)
        return
    previous = {"status": row["status"], "trace_id": row["trace_id"]}
    row.update(status="paid", trace_id={"status": "supported", "value": f"SBX{payout_id[-12:].upper()}"})
    if row["automatic"]:
        row["reconciliation_status"] = "completed"
    sb.store.save(row)
    events.emit(sb, "payout.updated", row, row.account, previous=previous)
    events.emit(sb, "payout.paid", row, row.account)
    if row["automatic"]:
        events.emit(sb, "payout.reconciliation_completed", row, row.account)
    if failure and failure.late:
        sb.store.add_timer(sb.clock.now() + DAY, "payout_returns", payout_id)


def bank_returns(sb: Sandbox, payout_id: str) -> None:
    """The late failure: the bank sends back a payout it had accepted, a day after it was paid."""
    row = sb.store.get(payout_id, type_="payout")
    bank = sb.store.get(row["destination"], row.account, "bank_account") if row else None
    failure = external_accounts.payout_failure(bank) if bank else None
    if row is None or row["status"] != "paid" or failure is None:
        return
    _fail(sb, row, failure)


def _fail(sb: Sandbox, row: Row, failure: external_accounts.PayoutFailure) -> None:
    previous = {"status": row["status"], "failure_code": None, "failure_message": None,
                "failure_balance_transaction": None}
    returned = ledger.record(sb, row.account, "payout_failure", row["amount"], row["currency"], row["id"],
                             description=f"Payout failure ({failure.code})")
    row.update(status="failed", failure_code=failure.code, failure_message=failure.message,
               failure_balance_transaction=returned["id"])
    if row["trace_id"]["status"] == "pending":
        row["trace_id"] = {"status": "unsupported", "value": None}
    sb.store.save(row)
    events.emit(sb, "payout.updated", row, row.account, previous=previous)
    events.emit(sb, "payout.failed", row, row.account)
    external_accounts.mark_errored(sb, row["destination"], row.account)


def get(sb: Sandbox, payout_id: str, account: str) -> Row:
    row = sb.store.get(payout_id, account, "payout")
    if row is None:
        raise no_such("payout", payout_id)
    return row
