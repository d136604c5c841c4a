"""Webhook endpoints. The signing secret is returned only when an endpoint is created, as on Stripe."""

from __future__ import annotations

import re

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, missing
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id, webhook_secret
from psp_sandbox.resources import events
from psp_sandbox.store import Row


def create(sb: Sandbox, params: dict, secret: str | None = None, connect: bool | None = None) -> Row:
    url = p.string(params, "url", required=True) or ""
    if not re.match(r"https?://[^/\s]+", url):
        raise invalid("Invalid URL: must be an http or https URL.", "url", "url_invalid")
    enabled = p.string_list(params, "enabled_events")
    if not enabled:
        raise missing("enabled_events")
    for name in enabled:
        if not re.fullmatch(r"\*|[a-z_]+(\.[a-z_]+)+", name):
            raise invalid(f"Invalid enabled_events: {name}", "enabled_events")
    connect = p.boolean(params, "connect") if connect is None else connect
    version = p.string(params, "api_version")
    if version is not None and version != events.API_VERSION:
        raise invalid(f"The sandbox renders events in API version {events.API_VERSION} only; leave out api_version "
                      f"or send {events.API_VERSION}.", "api_version")
    endpoint = {
        "id": new_id("we"), "object": "webhook_endpoint", "api_version": version,
        "application": None, "created": sb.clock.now(), "description": p.string(params, "description"),
        "enabled_events": enabled, "livemode": False, "metadata": p.metadata(params), "status": "enabled",
        "url": url,
    }
    secret = secret or webhook_secret()
    row = sb.store.insert(endpoint, PLATFORM_ACCOUNT, {"secret": secret, "connect": connect})
    row["secret"] = secret
    return row


def ensure(sb: Sandbox, url: str, secret: str, events: list[str] | None = None) -> None:
    """Endpoints for `url` signed with `secret`, for the platform's events and for connected accounts' events
    (on Stripe these are two endpoints, an account one and a Connect one), enabled for `events` (default all)."""
    enabled = events or ["*"]
    for connect in (False, True):
        existing = sb.store.conn().execute(
            "SELECT id FROM objects WHERE type = 'webhook_endpoint' AND json_extract(data, '$.url') = ?"
            " AND json_extract(private, '$.secret') = ? AND json_extract(private, '$.connect') = ?",
            (url, secret, 1 if connect else 0),
        ).fetchone()
        if existing is None:
            create(sb, {"url": url, "enabled_events": enabled}, secret=secret, connect=connect)
            continue
        row = sb.store.get(existing[0])
        if row is not None and row["enabled_events"] != enabled:
            row["enabled_events"] = enabled  # a restart with other events reconfigures the same endpoint
            sb.store.save(row)
