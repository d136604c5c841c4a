"""Business time: real time plus a persisted offset, so tests can jump days ahead.

Availability of funds, session expiry, bank-transfer settlement and payout progress follow this
clock. Webhook signatures and delivery retries use real wall time, because receivers check the
signature timestamp against their own clock.
"""

from __future__ import annotations

import time

from psp_sandbox.store import Store


class Clock:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.offset = int(store.kv_get("clock_offset", 0))

    def now(self) -> int:
        return int(time.time()) + self.offset

    def advance(self, seconds: int) -> None:
        self.offset += seconds
        self._store.kv_set("clock_offset", self.offset)
