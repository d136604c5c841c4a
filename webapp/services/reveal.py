"""Show a secret exactly once across a redirect: it waits in Redis under a random token for 5 minutes.

The browser's session holds only the token; the first read deletes the secret (GETDEL), so neither a
reload nor the back button can show it again, and it never sits in a cookie.
"""

from __future__ import annotations

import secrets

from webapp.extensions import redis_conn

TTL_SECONDS = 300
_PREFIX = "reveal-once:"


def stash(secret: str) -> str:
    token = secrets.token_urlsafe(24)
    redis_conn.client.set(_PREFIX + token, secret, ex=TTL_SECONDS)
    return token


def take(token: str | None) -> str | None:
    if not token:
        return None
    value = redis_conn.client.getdel(_PREFIX + token)
    return value.decode() if isinstance(value, bytes) else None
