"""Webhooks to merchants: the event types, delivery statuses, the retry schedule and which addresses may be called.

Pure rules (no I/O): the delivery service asks them what to do after each attempt and whether a resolved address
may be connected to.

- An event (`evt_…`) is recorded with the state change that causes it; one delivery per subscribed endpoint.
- A delivery is `pending` (due at its next attempt), `succeeded` (a 2xx answer) or `failed` (every attempt of the
  schedule failed, about three days). A Resend makes a failed or succeeded delivery pending again.
- An endpoint is `enabled` or `disabled` (by the merchant, or by us after sustained failure: `disabled_reason`).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from webapp.domain.errors import ValidationError


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_PENDING = "payment.pending"
    PAYMENT_EXPIRED = "payment.expired"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_FAILED = "payout.failed"
    SELLER_ACCOUNT_UPDATED = "seller_account.updated"


ALL_EVENTS = "*"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DisabledReason(StrEnum):
    MERCHANT = "merchant"   # switched off in the portal
    FAILING = "failing"     # every attempt of a delivery failed over the whole schedule


# Delays before attempt 2, 3, …: exponential-ish, like Standard Webhooks' reference schedule, stretched to about three
# days (71.6 hours in all). Attempt 1 is immediate; after the last one the delivery has failed.
RETRY_DELAYS = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20),
                timedelta(hours=20))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def retry_delay(attempts_made: int, scale: float = 1.0, jitter: random.Random | None = None) -> timedelta | None:
    """How long to wait after `attempts_made` failed attempts, or None when the schedule is exhausted. `scale`
    compresses the schedule (tests); up to 10% jitter spreads retries of many deliveries failing together."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts_made - 1].total_seconds() * scale
    spread = (jitter or random).uniform(0, 0.1) * delay
    return timedelta(seconds=delay + spread)


def parse_events(raw: object) -> list[str]:
    """`enabled_events`: a non-empty list of known event types, or ["*"] for every type (now and future)."""
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
        raise ValidationError("enabled_events must be a non-empty list of event types (or [\"*\"]).",
                              param="enabled_events")
    known = {t.value for t in EventType}
    for item in raw:
        if item != ALL_EVENTS and item not in known:
            raise ValidationError(f"Unknown event type: {item[:60]!r}. Known: {', '.join(sorted(known))}, or *.",
                                  param="enabled_events")
    return [ALL_EVENTS] if ALL_EVENTS in raw else sorted(set(raw))


def subscribed(enabled_events: list[str], event_type: str) -> bool:
    return ALL_EVENTS in enabled_events or event_type in enabled_events


MAX_URL_LENGTH = 2048


def parse_url(raw: object, *, require_https: bool, allow_loopback: bool) -> str:
    """An endpoint URL as saved: http(s), a host, no credentials; an IP literal must be one we may call. A host
    name is resolved and checked again at every delivery (`address_refusal`)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("url is required.", param="url", code="parameter_missing")
    url = raw.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"url must be at most {MAX_URL_LENGTH} characters.", param="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("url is not a valid URL.", param="url")
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise ValidationError("url must start with " + " or ".join(f"{s}://" for s in allowed) + ".", param="url")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValidationError("url must name a host, without a user name or password.", param="url")
    if port == 0 or any(ch.isspace() for ch in url):
        raise ValidationError("url is not a valid URL.", param="url")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return url
    refusal = address_refusal(literal, allow_loopback=allow_loopback)
    if refusal:
        raise ValidationError(f"url must not point at {refusal}.", param="url")
    return url


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool) -> str | None:
    """Why we must not connect to `address` (None: it is a public address, or loopback where allowed).

    Link-local (and with it the cloud metadata service at 169.254.169.254) and private ranges are refused always;
    loopback only when the setting allows it (development and tests deliver to a receiver on the same machine)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "a link-local or metadata address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_private or address.is_unspecified or address.is_multicast or address.is_reserved \
            or not address.is_global:
        return "a private or reserved address"
    return None


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt got: an HTTP status (None when no answer came), how long it took, what it said."""

    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
