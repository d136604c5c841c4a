"""Connect routes: accounts, transfers and payouts."""

from __future__ import annotations

from psp_sandbox.api import Call, owned, route
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.lists import Query, page
from psp_sandbox.resources import accounts, payouts, transfers


@route("/accounts", "POST")
def create_account(call: Call) -> dict:
    call.require_platform()
    return accounts.create(call.sb, call.params)


@route("/accounts")
def list_accounts(call: Call) -> dict:
    call.require_platform()
    query = Query("account", PLATFORM_ACCOUNT).time_range("created", call.params, "created")
    return page(call.sb.store, query, call.params, "/v1/accounts")


@route("/accounts/<account_id>")
def retrieve_account(call: Call, account_id: str) -> dict:
    return accounts.get(call.sb, account_id)


@route("/transfers", "POST")
def create_transfer(call: Call) -> dict:
    call.require_platform()
    return transfers.create(call.sb, call.params)


@route("/transfers")
def list_transfers(call: Call) -> dict:
    query = Query("transfer", call.account).field("destination", call.params.get("destination"))
    query.field("transfer_group", call.params.get("transfer_group")).time_range("created", call.params, "created")
    return page(call.sb.store, query, call.params, "/v1/transfers")


@route("/transfers/<transfer_id>")
def retrieve_transfer(call: Call, transfer_id: str) -> dict:
    return owned(call, transfer_id, "transfer")


@route("/payouts", "POST")
def create_payout(call: Call) -> dict:
    return payouts.create(call.sb, call.params, call.account)


@route("/payouts")
def list_payouts(call: Call) -> dict:
    query = Query("payout", call.account).field("status", call.params.get("status"))
    query.field("destination", call.params.get("destination"))
    query.time_range("created", call.params, "created").time_range(
        "json_extract(data, '$.arrival_date')", call.params, "arrival_date")
    return page(call.sb.store, query, call.params, "/v1/payouts")


@route("/payouts/<payout_id>")
def retrieve_payout(call: Call, payout_id: str) -> dict:
    return payouts.get(call.sb, payout_id, call.account)
