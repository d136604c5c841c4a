"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from webapp.domain.errors import ValidationError

_hasher = PasswordHasher()
# Verifying against this when the email is unknown keeps the response time the same either way.
_DUMMY_HASH = _hasher.hash("not a real password, only used for timing")


def check_strength(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise ValidationError(f"Password must be at least {min_length} characters.", param="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
