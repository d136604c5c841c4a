"""Merchant API keys: created once, shown once, stored as a digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Response, after_this_request, current_app
from sqlalchemy import or_, select, update

from webapp.dbtypes import utcnow
from webapp.domain.errors import NotFound, ValidationError
from webapp.extensions import db
from webapp.models import ApiKey, Merchant
from webapp.services import audit

# A key says which mode it works in, as Stripe's do: `sk_test_` while the PSP is the sandbox or Stripe's test
# mode, `sk_live_` with live PSP keys. Keys made before this change (`gw_live_`) keep working.
TEST_PREFIX, LIVE_PREFIX, LEGACY_PREFIX = "sk_test_", "sk_live_", "gw_live_"
KEY_PREFIXES = (TEST_PREFIX, LIVE_PREFIX, LEGACY_PREFIX)
_DISPLAY_CHARS = 6


def key_prefix() -> str:
    """The prefix of new keys: test unless the PSP is reached with a live secret key."""
    psp_key = current_app.config.get("STRIPE_API_KEY") or ""
    return LIVE_PREFIX if psp_key.startswith(("sk_live_", "rk_live_")) else TEST_PREFIX


@dataclass(frozen=True)
class NewApiKey:
    record: ApiKey
    secret: str  # the full key: returned to the caller once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(merchant: Merchant, name: str, *, actor: audit.Actor | None = None) -> NewApiKey:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the key a name, e.g. the shop it is for.", param="name")
    if len(name) > 100:
        raise ValidationError("Key names are at most 100 characters.", param="name")
    prefix = key_prefix()
    secret = prefix + secrets.token_urlsafe(32)
    record = ApiKey(merchant=merchant, name=name, prefix=secret[: len(prefix) + _DISPLAY_CHARS],
                    key_hash=digest(secret))
    db.session.add(record)
    db.session.flush()
    audit.note("api_key.create", "api_key", record.id, {"merchant": merchant.id, "name": name,
               "prefix": record.prefix}, actor=actor)
    db.session.commit()
    return NewApiKey(record, secret)


def revoke(merchant: Merchant, key_id: str, *, actor: audit.Actor | None = None) -> ApiKey:
    record = db.session.get(ApiKey, key_id)
    if record is None or record.merchant_id != merchant.id:
        raise NotFound("No such API key.", param="api_key")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.note("api_key.revoke", "api_key", record.id, {"merchant": merchant.id, "name": record.name},
                   actor=actor)
        db.session.commit()
    _cache.forget(record.key_hash)
    return record


def authenticate(secret: str) -> ApiKey | None:
    """The active key for this secret, or None (unknown and revoked keys look the same)."""
    if not secret.startswith(KEY_PREFIXES):
        return None
    record = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(secret)))
    if record is None or record.revoked_at is not None:
        return None
    if db.session.scalar(select(Merchant.disabled_at).where(Merchant.id == record.merchant_id)) is not None:
        return None  # the merchant was disabled by an admin
    return record


@dataclass(frozen=True)
class KeyIdentity:
    key_id: str
    merchant_id: str


class _Cache:
    """Recently verified keys per process, so an API request does not pay a query for its key.

    A revoked key stops working at once in the process that revoked it and within TTL_SECONDS elsewhere.
    Unknown keys are not cached (nothing for a caller to fill memory with).
    """

    TTL_SECONDS = 5.0

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, KeyIdentity]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> KeyIdentity | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key_hash: str, identity: KeyIdentity) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key_hash] = (time.monotonic() + self.TTL_SECONDS, identity)

    def forget(self, key_hash: str) -> None:
        with self._lock:
            self._entries.pop(key_hash, None)

    def forget_merchant(self, merchant_id: str) -> None:
        with self._lock:
            for key_hash in [h for h, (_, i) in self._entries.items() if i.merchant_id == merchant_id]:
                del self._entries[key_hash]


_cache = _Cache()


def forget_merchant(merchant_id: str) -> None:
    """Drop a merchant's keys from this process's cache (it was disabled)."""
    _cache.forget_merchant(merchant_id)


def identify(secret: str) -> KeyIdentity | None:
    """Who is calling: the key and its merchant, from the cache or the database."""
    key_hash = digest(secret)
    cached = _cache.get(key_hash)
    if cached is not None:
        _usage.seen(cached.key_id)
        return cached
    record = authenticate(secret)
    if record is None:
        return None
    identity = KeyIdentity(record.id, record.merchant_id)
    _cache.put(key_hash, identity)
    _usage.seen(record.id)
    return identity


class _Usage:
    """"Last used" per key, written cheaply: at most once per interval per key and process, by one UPDATE that also
    skips rows another process stamped recently. The UPDATE runs on its own connection after the response is
    sent, when the request's transaction is over (SQLite allows one writer; the request is never made to wait)."""

    def __init__(self) -> None:
        self._written: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, key_id: str) -> None:
        interval = current_app.config["API_KEY_LAST_USED_INTERVAL_SECONDS"]
        now = time.monotonic()
        with self._lock:
            if now - self._written.get(key_id, -interval - 1.0) < interval:
                return
            if len(self._written) > 10_000:
                self._written.clear()
            self._written[key_id] = now
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        @after_this_request
        def stamp_later(response: Response) -> Response:
            response.call_on_close(lambda: _stamp(app, key_id, interval))
            return response


def _stamp(app: Flask, key_id: str, interval: int) -> None:
    stamp = utcnow()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(ApiKey).where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < stamp - timedelta(seconds=interval)))
            .values(last_used_at=stamp))


_usage = _Usage()


def list_for(merchant: Merchant) -> list[ApiKey]:
    return list(db.session.scalars(
        select(ApiKey).where(ApiKey.merchant_id == merchant.id).order_by(ApiKey.created_at.desc())
    ))
