"""Object ids shaped like Stripe's: a type prefix and random base62 characters."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
PLATFORM_ACCOUNT = "acct_1SandboxPlatform00"


def _base62(length: int) -> str:
    """`length` random base62 characters from one read of the system's randomness (64**length > 62**length
    possible values, so every character is uniform to within a negligible bias)."""
    number = secrets.randbits(6 * length)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "_" + _base62(length)


def webhook_secret() -> str:
    return "whsec_" + _base62(32)
