"""Encryption at rest for buyer personal data (Fernet: AES-128-CBC + HMAC-SHA256).

DATA_ENCRYPTION_KEY may list several comma-separated keys: the first encrypts, all decrypt, so a key
can be rotated without rewriting old rows at once.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class DecryptionFailed(RuntimeError):
    """Stored data does not decrypt with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


def _current() -> MultiFernet:
    return _fernet(current_app.config["DATA_ENCRYPTION_KEY"])


def encrypt(text: str) -> str:
    return _current().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed("buyer data does not decrypt with DATA_ENCRYPTION_KEY") from exc


def encrypt_optional(text: str | None) -> str | None:
    return encrypt(text) if text is not None else None


def decrypt_optional(token: str | None) -> str | None:
    return decrypt(token) if token is not None else None


def lookup_key(config: dict) -> bytes:
    """The key of lookup hashes: BUYER_LOOKUP_KEY, or one derived from the first DATA_ENCRYPTION_KEY (set
    BUYER_LOOKUP_KEY before rotating that key, or stored hashes stop matching)."""
    explicit = config.get("BUYER_LOOKUP_KEY")
    if explicit:
        return explicit.encode()
    first = config["DATA_ENCRYPTION_KEY"].split(",")[0].strip()
    return hmac.new(first.encode(), b"paysplit buyer lookup v1", hashlib.sha256).digest()


def lookup_hash(email: str, config: dict | None = None) -> str:
    """A keyed hash (HMAC-SHA256) of a normalized email: equal emails give equal hashes, so payments can be found
    by the buyer's email while only its ciphertext is stored; without the key the hash reveals nothing."""
    key = lookup_key(config if config is not None else current_app.config)
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()
