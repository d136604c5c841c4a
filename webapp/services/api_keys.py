"""Merchant API keys: created once, shown once, stored as a digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.domain.errors import NotFound, ValidationError
from webapp.extensions import db
from webapp.models import ApiKey, Merchant
from webapp.services import audit

KEY_PREFIX = "gw_live_"
_DISPLAY_CHARS = 6


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
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(merchant=merchant, name=name, prefix=secret[: len(KEY_PREFIX) + _DISPLAY_CHARS],
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
    if not secret.startswith(KEY_PREFIX):
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
        return cached
    record = authenticate(secret)
    if record is None:
        return None
    identity = KeyIdentity(record.id, record.merchant_id)
    _cache.put(key_hash, identity)
    return identity


def list_for(merchant: Merchant) -> list[ApiKey]:
    return list(db.session.scalars(
        select(ApiKey).where(ApiKey.merchant_id == merchant.id).order_by(ApiKey.created_at.desc())
    ))
