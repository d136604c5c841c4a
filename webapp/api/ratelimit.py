"""The per-API-key rate limit of /v1/: API_RATE_LIMIT per presented key, counted in RATELIMIT_STORAGE_URI.

The `limits` library's fixed window (one Redis call per request: a Lua INCR + EXPIRE), called directly from
the blueprint's `before_request`. Flask-Limiter (which keeps the sign-in limit) spent about as long again
resolving its decorators and limit lists on every API request. Same counters, same keys (the `limits` key
prefix, so `limiter.reset()` clears them too), same 429 answer with Retry-After; if Redis cannot be reached
the counting falls back to this process's memory, as Flask-Limiter's in-memory fallback did.
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

from flask import current_app
from flask.sansio.app import App
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

MESSAGE = "Too many requests with this API key; slow down and retry after the delay."
_SCOPE = "api"


@lru_cache(maxsize=16)
def _limits(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


class ApiRateLimit:
    def __init__(self, storage_uri: str) -> None:
        self._shared = FixedWindowRateLimiter(storage_from_string(storage_uri, wrap_exceptions=True))
        self._local = FixedWindowRateLimiter(MemoryStorage())

    def _hit(self, item: RateLimitItem, key: str) -> tuple[bool, FixedWindowRateLimiter]:
        try:
            return self._shared.hit(item, _SCOPE, key), self._shared
        except StorageError as error:
            log.warning("rate-limit storage unreachable, counting in memory: %s", error)
            return self._local.hit(item, _SCOPE, key), self._local

    def check(self, key: str) -> None:
        """Count this request against every configured limit; 429 (with Retry-After) when one is exceeded."""
        for item in _limits(current_app.config["API_RATE_LIMIT"]):
            allowed, strategy = self._hit(item, key)
            if not allowed:
                reset_at = strategy.get_window_stats(item, _SCOPE, key).reset_time
                raise TooManyRequests(MESSAGE, retry_after=max(1, math.ceil(reset_at - time.time())))


def init_app(app: App) -> None:
    app.extensions["api_rate_limit"] = ApiRateLimit(app.config["RATELIMIT_STORAGE_URI"])


def check(key: str) -> None:
    current_app.extensions["api_rate_limit"].check(key)
