"""Events: an immutable record of each state change, with a delivery per matching webhook endpoint."""

from __future__ import annotations

import contextvars
import copy
import json

from psp_sandbox.context import Sandbox
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id

# The one API version the sandbox speaks: that of the OpenAPI description its objects are checked against
# (tests/data/stripe/). Events, the Stripe-Version header and object shapes all say this version.
API_VERSION = "2023-08-16"

# The API request (id, idempotency key) that caused the events being emitted, if any.
current_request: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "current_request", default=None
)


def emit(sb: Sandbox, type_: str, obj: dict, account: str = PLATFORM_ACCOUNT, previous: dict | None = None) -> dict:
    endpoints = _matching_endpoints(sb, type_, connect=account != PLATFORM_ACCOUNT)
    request = current_request.get()
    data: dict = {"object": copy.deepcopy(dict(obj))}
    if previous:
        data["previous_attributes"] = previous
    event = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": sb.clock.now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": len(endpoints),
        "request": {"id": request[0] if request else None, "idempotency_key": request[1] if request else None},
        "type": type_,
    }
    if account != PLATFORM_ACCOUNT:
        event["account"] = account
    sb.store.insert(event, account)
    conn = sb.store.conn()
    delivery_ids = [
        conn.execute(
            "INSERT INTO deliveries (event_id, endpoint_id) VALUES (?, ?) RETURNING id", (event["id"], endpoint)
        ).fetchone()[0]
        for endpoint in endpoints
    ]
    if delivery_ids:
        sb.store.after_commit(lambda: sb.dispatcher.schedule(delivery_ids))
    return event


def _matching_endpoints(sb: Sandbox, type_: str, connect: bool) -> list[str]:
    """Enabled endpoints listening to `type_`; Connect endpoints get connected accounts' events, others the
    platform's own, as on Stripe."""
    rows = sb.store.conn().execute(
        "SELECT id, json_extract(data, '$.enabled_events') FROM objects WHERE type = 'webhook_endpoint'"
        " AND json_extract(data, '$.status') = 'enabled' AND json_extract(private, '$.connect') = ?",
        (1 if connect else 0,),
    )
    return [endpoint for endpoint, enabled in rows if {"*", type_} & set(json.loads(enabled))]


def pending_webhooks(sb: Sandbox, event_id: str) -> int:
    return sb.store.conn().execute(
        "SELECT COUNT(*) FROM deliveries WHERE event_id = ? AND status != 'succeeded'", (event_id,)
    ).fetchone()[0]
