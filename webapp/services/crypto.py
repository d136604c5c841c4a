"""Encryption at rest for buyer personal data (Fernet: AES-128-CBC + HMAC-SHA256).

DATA_ENCRYPTION_KEY may list several comma-separated keys: the first encrypts, all decrypt, so a key
can be rotated without rewriting old rows at once.
"""

from __future__ import annotations

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
