"""JSON shapes of webhook endpoints and deliveries (documented in openapi.json). Events are stored as delivered
(webapp.services.webhook_events.as_json)."""

from __future__ import annotations

from webapp.models import WebhookAttempt, WebhookEndpoint
from webapp.services.webhook_reads import DeliveryRow


def endpoint(found: WebhookEndpoint, secret: str | None = None) -> dict:
    """An endpoint; `secret` only in the answer that created it (it is never shown again)."""
    shown = {
        "id": found.id,
        "object": "webhook_endpoint",
        "url": found.url,
        "description": found.description,
        "enabled_events": found.events,
        "status": found.status,
        "disabled_reason": found.disabled_reason,
        "created": int(found.created_at.timestamp()),
    }
    if secret is not None:
        shown["secret"] = secret
    return shown


def _attempt(found: WebhookAttempt) -> dict:
    return {"attempted_at": int(found.attempted_at.timestamp()), "status_code": found.status_code,
            "latency_ms": found.latency_ms, "response_excerpt": found.response_excerpt, "error": found.error}


def delivery(row: DeliveryRow) -> dict:
    found = row.delivery
    return {
        "id": found.id,
        "object": "webhook_delivery",
        "webhook_endpoint": found.endpoint_id,
        "event": found.event_id,
        "event_type": row.event_type,
        "status": found.status,
        "next_attempt": int(found.next_attempt_at.timestamp()) if found.next_attempt_at else None,
        "created": int(found.created_at.timestamp()),
        "attempts": [_attempt(a) for a in row.attempts],
    }
