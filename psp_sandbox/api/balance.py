"""Balance and Balance Transactions routes."""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.api import Call, owned, route
from psp_sandbox.errors import invalid, no_such
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
    payout_id = p.string(params, "payout")
    if payout_id:
        payout = call.sb.store.get(payout_id, call.account, "payout")
        if payout is None:
            raise no_such("payout", payout_id, "payout")
        if not payout["automatic"]:
            # Stripe itemizes automatic payouts only.
            raise invalid("Balance transaction history can only be filtered on automatic transfers, not manual.",
                          "payout")
        query.raw("json_extract(private, '$.automatic_payout') = ?", payout_id)
    return page(call.sb.store, query, params, "/v1/balance_transactions")


@route("/balance_transactions/<transaction_id>")
def retrieve_balance_transaction(call: Call, transaction_id: str) -> dict:
    return owned(call, transaction_id, "balance_transaction")
