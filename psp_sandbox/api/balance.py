"""Balance and Balance Transactions routes."""

from __future__ import annotations

from psp_sandbox.api import Call, owned, route
from psp_sandbox.lists import Query, page
from psp_sandbox.resources import accounts, ledger


@route("/balance")
def retrieve_balance(call: Call) -> dict:
    return ledger.balance(call.sb, call.account, accounts.default_currency(call.sb, call.account))


@route("/balance_transactions")
def list_balance_transactions(call: Call) -> dict:
    params = call.params
    query = Query("balance_transaction", call.account).field("type", params.get("type"))
    query.field("currency", params.get("currency")).field("source", params.get("source"))
    query.time_range("created", params, "created")
    payout = params.get("payout")
    if payout:
        # Only automatic payouts settle a set of transactions; the sandbox's payouts are manual, as on Stripe
        # such a filter then returns the payout's own transaction.
        query.field("source", payout)
    return page(call.sb.store, query, params, "/v1/balance_transactions")


@route("/balance_transactions/<transaction_id>")
def retrieve_balance_transaction(call: Call, transaction_id: str) -> dict:
    return owned(call, transaction_id, "balance_transaction")
