"""Keyed hashes that let the portal find rows by personal data kept encrypted at rest.

A buyer's email is stored encrypted (webapp.services.crypto); searching for it would mean decrypting every row.
Instead each payment also stores HMAC-SHA256(key, normalised email): equal emails give equal hashes, and without
the key the hash does not reveal the address (no dictionary of known emails can be hashed to compare).

The key is LOOKUP_HASH_KEY, or when it is unset the first DATA_ENCRYPTION_KEY (set LOOKUP_HASH_KEY before
rotating encryption keys, or existing hashes stop matching).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def _key() -> bytes:
    key = current_app.config.get("LOOKUP_HASH_KEY") or current_app.config["DATA_ENCRYPTION_KEY"].split(",")[0]
    return hashlib.sha256(b"lookup:" + key.strip().encode()).digest()


def normalise_email(email: str) -> str:
    """Case and surrounding space do not make another address for this purpose."""
    return email.strip().lower()


def email_hash(email: str) -> str:
    return hmac.new(_key(), normalise_email(email).encode(), hashlib.sha256).hexdigest()
