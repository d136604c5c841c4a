"""Events and Webhook Endpoints routes."""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.api import Call, owned, route
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.lists import Query, page
from psp_sandbox.resources import endpoints, events

_UNDELIVERED = "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = objects.id AND d.status != 'succeeded')"


def _with_pending(call: Call, event: dict) -> dict:
    return {**event, "pending_webhooks": events.pending_webhooks(call.sb, event["id"])}


@route("/events")
def list_events(call: Call) -> dict:
    params = call.params
    query = Query("event", call.account).field("type", params.get("type"))
    types = p.string_list(params, "types")
    if types:
        query.raw(f"json_extract(data, '$.type') IN ({', '.join('?' * len(types))})", *types)
    if "delivery_success" in params:
        query.raw(_UNDELIVERED if not p.boolean(params, "delivery_success") else f"NOT {_UNDELIVERED}")
    query.time_range("created", params, "created")
    listed = page(call.sb.store, query, params, "/v1/events")
    listed["data"] = [_with_pending(call, event) for event in listed["data"]]
    return listed


@route("/events/<event_id>")
def retrieve_event(call: Call, event_id: str) -> dict:
    return _with_pending(call, owned(call, event_id, "event"))


@route("/webhook_endpoints", "POST")
def create_endpoint(call: Call) -> dict:
    call.require_platform()
    return endpoints.create(call.sb, call.params)


@route("/webhook_endpoints")
def list_endpoints(call: Call) -> dict:
    return page(call.sb.store, Query("webhook_endpoint", PLATFORM_ACCOUNT), call.params, "/v1/webhook_endpoints")


@route("/webhook_endpoints/<endpoint_id>")
def retrieve_endpoint(call: Call, endpoint_id: str) -> dict:
    return owned(call, endpoint_id, "webhook_endpoint")
