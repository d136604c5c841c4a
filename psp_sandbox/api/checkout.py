"""Checkout Sessions routes."""

from __future__ import annotations

from flask import request

from psp_sandbox.api import Call, route
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.lists import Query, page, page_of
from psp_sandbox.resources import sessions


@route("/checkout/sessions", "POST")
def create_session(call: Call) -> dict:
    call.require_platform()
    return sessions.create(call.sb, call.params, request.host_url)


@route("/checkout/sessions")
def list_sessions(call: Call) -> dict:
    query = Query("checkout.session", PLATFORM_ACCOUNT).field("payment_intent", call.params.get("payment_intent"))
    query.field("client_reference_id", call.params.get("client_reference_id")).field(
        "status", call.params.get("status"))
    query.time_range("created", call.params, "created")
    return page(call.sb.store, query, call.params, "/v1/checkout/sessions")


@route("/checkout/sessions/<session_id>")
def retrieve_session(call: Call, session_id: str) -> dict:
    return sessions.get(call.sb, session_id)


@route("/checkout/sessions/<session_id>/expire", "POST")
def expire_session(call: Call, session_id: str) -> dict:
    return sessions.expire(call.sb, session_id)


@route("/checkout/sessions/<session_id>/line_items")
def list_line_items(call: Call, session_id: str) -> dict:
    session = sessions.get(call.sb, session_id)
    return page_of(session.private["line_items"], call.params, f"/v1/checkout/sessions/{session_id}/line_items")
