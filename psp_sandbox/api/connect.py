"""Connect money routes: transfers and their reversals, payouts. Account routes live in accounts_api."""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.api import Call, accounts_api, owned, route  # noqa: F401  (accounts_api registers its routes)
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.lists import Query, page
from psp_sandbox.resources import payouts, reversals, transfers


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


@route("/transfers/<transfer_id>", "POST")
def update_transfer(call: Call, transfer_id: str) -> dict:
    return reversals.update_transfer(call.sb, owned(call, transfer_id, "transfer"), call.params)


@route("/transfers/<transfer_id>/reversals", "POST")
def create_reversal(call: Call, transfer_id: str) -> dict:
    call.require_platform()
    # The sandbox's transfers carry no application fee, so `refund_application_fee` has nothing to refund.
    p.boolean(call.params, "refund_application_fee")
    return reversals.create(call.sb, owned(call, transfer_id, "transfer"), call.params)


@route("/transfers/<transfer_id>/reversals")
def list_reversals(call: Call, transfer_id: str) -> dict:
    owned(call, transfer_id, "transfer")
    query = Query("transfer_reversal", PLATFORM_ACCOUNT).field("transfer", transfer_id)
    return page(call.sb.store, query, call.params, f"/v1/transfers/{transfer_id}/reversals")


@route("/transfers/<transfer_id>/reversals/<reversal_id>")
def retrieve_reversal(call: Call, transfer_id: str, reversal_id: str) -> dict:
    return reversals.get(call.sb, owned(call, transfer_id, "transfer"), reversal_id)


@route("/transfers/<transfer_id>/reversals/<reversal_id>", "POST")
def update_reversal(call: Call, transfer_id: str, reversal_id: str) -> dict:
    return reversals.update(call.sb, owned(call, transfer_id, "transfer"), reversal_id, call.params)


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


@route("/payouts/<payout_id>/cancel", "POST")
def cancel_payout(call: Call, payout_id: str) -> dict:
    return payouts.cancel(call.sb, payout_id, call.account)
