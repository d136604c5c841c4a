"""A merchant's webhook endpoints: create (the secret is shown once), list, read, rotate the secret with an overlap,
disable and enable, delete. Secrets follow Standard Webhooks: `whsec_` + base64 of 32 random bytes.

Functions taking `commit=False` leave the commit to the caller (the API commits with the idempotency key's row).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from webapp.dbtypes import utcnow
from webapp.domain.errors import NotFound, ValidationError
from webapp.domain.webhooks import DisabledReason, EndpointStatus, parse_events, parse_url
from webapp.extensions import db
from webapp.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webapp.services import crypto

MAX_ENDPOINTS = 16
MAX_DESCRIPTION = 200


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class NewEndpoint:
    url: str
    enabled_events: list[str]
    description: str | None = None

    @classmethod
    def from_json(cls, document: object) -> NewEndpoint:
        if not isinstance(document, dict):
            raise ValidationError("The request body must be a JSON object.")
        unknown = sorted(set(document) - {"url", "enabled_events", "description"})
        if unknown:
            raise ValidationError(f"Received unknown parameter: {unknown[0][:60]}.", param=unknown[0][:60],
                                  code="parameter_unknown")
        if "enabled_events" not in document:
            raise ValidationError("enabled_events is required.", param="enabled_events", code="parameter_missing")
        return cls.parse(document.get("url"), document["enabled_events"], document.get("description"))

    @classmethod
    def parse(cls, url: object, events: object, description: object = None) -> NewEndpoint:
        config = current_app.config
        checked = parse_url(url, require_https=config["WEBHOOK_REQUIRE_HTTPS"],
                            allow_loopback=config["WEBHOOK_ALLOW_LOOPBACK"])
        if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
            raise ValidationError(f"description must be a string of at most {MAX_DESCRIPTION} characters.",
                                  param="description")
        return cls(checked, parse_events(events), (description or "").strip() or None)


@dataclass(frozen=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str


def create(merchant_id: str, command: NewEndpoint, *, commit: bool = True) -> Created:
    count = len(db.session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.merchant_id == merchant_id))
                .all())
    if count >= MAX_ENDPOINTS:
        raise ValidationError(f"A merchant can have at most {MAX_ENDPOINTS} webhook endpoints.", param="url",
                              code="endpoint_limit")
    secret = new_secret()
    endpoint = WebhookEndpoint(merchant_id=merchant_id, url=command.url, description=command.description,
                               enabled_events=",".join(command.enabled_events), secret_enc=crypto.encrypt(secret),
                               status=EndpointStatus.ENABLED.value)
    db.session.add(endpoint)
    db.session.flush()
    if commit:
        db.session.commit()
    return Created(endpoint, secret)


def list_for(merchant_id: str) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.merchant_id == merchant_id)
                                   .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())))


def get(merchant_id: str, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                          WebhookEndpoint.merchant_id == merchant_id)
    found = db.session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"No such webhook endpoint: {endpoint_id[:60]!r}.", param="id")
    return found


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during a rotation's overlap."""
    found = [crypto.decrypt(endpoint.secret_enc)]
    if endpoint.previous_secret_enc and endpoint.previous_secret_expires_at \
            and endpoint.previous_secret_expires_at > (now or utcnow()):
        found.append(crypto.decrypt(endpoint.previous_secret_enc))
    return found


def rotate(merchant_id: str, endpoint_id: str) -> Created:
    """A new secret; the old one keeps signing for WEBHOOK_SECRET_OVERLAP_SECONDS, so receivers can switch over."""
    endpoint = get(merchant_id, endpoint_id, lock=True)
    secret = new_secret()
    now = utcnow()
    endpoint.previous_secret_enc = endpoint.secret_enc
    endpoint.previous_secret_expires_at = now + timedelta(seconds=current_app.config["WEBHOOK_SECRET_OVERLAP_SECONDS"])
    endpoint.secret_enc, endpoint.updated_at = crypto.encrypt(secret), now
    db.session.commit()
    return Created(endpoint, secret)


def set_enabled(merchant_id: str, endpoint_id: str, enabled: bool) -> WebhookEndpoint:
    """Switch deliveries on or off. Deliveries still pending wait while disabled and resume when enabled."""
    endpoint = get(merchant_id, endpoint_id, lock=True)
    endpoint.status = (EndpointStatus.ENABLED if enabled else EndpointStatus.DISABLED).value
    endpoint.disabled_reason = None if enabled else DisabledReason.MERCHANT.value
    endpoint.failing_since = None if enabled else endpoint.failing_since
    endpoint.updated_at = utcnow()
    db.session.commit()
    return endpoint


def remove(merchant_id: str, endpoint_id: str, *, commit: bool = True) -> str:
    """Delete an endpoint with its deliveries and their log; the events stay (GET /v1/events)."""
    endpoint = get(merchant_id, endpoint_id, lock=True)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()
    if commit:
        db.session.commit()
    return endpoint_id
