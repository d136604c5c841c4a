"""PaymentIntents, Charges and Refunds routes."""

from __future__ import annotations

from psp_sandbox.api import Call, owned, route
from psp_sandbox.lists import Query, page
from psp_sandbox.resources import refunds


@route("/payment_intents/<intent_id>")
def retrieve_intent(call: Call, intent_id: str) -> dict:
    return owned(call, intent_id, "payment_intent")


@route("/charges/<charge_id>")
def retrieve_charge(call: Call, charge_id: str) -> dict:
    return owned(call, charge_id, "charge")


@route("/charges")
def list_charges(call: Call) -> dict:
    query = Query("charge", call.account).field("payment_intent", call.params.get("payment_intent"))
    query.field("transfer_group", call.params.get("transfer_group")).time_range("created", call.params, "created")
    return page(call.sb.store, query, call.params, "/v1/charges")


@route("/refunds", "POST")
def create_refund(call: Call) -> dict:
    call.require_platform()
    return refunds.create(call.sb, call.params)


@route("/refunds")
def list_refunds(call: Call) -> dict:
    query = Query("refund", call.account).field("charge", call.params.get("charge"))
    query.field("payment_intent", call.params.get("payment_intent")).time_range("created", call.params, "created")
    return page(call.sb.store, query, call.params, "/v1/refunds")


@route("/refunds/<refund_id>")
def retrieve_refund(call: Call, refund_id: str) -> dict:
    return owned(call, refund_id, "refund")
