"""The periodic scheduler (`python -m workers cron`), safe to run on several hosts at once.

Every scheduler process keeps rq's CronScheduler timetable, but only the one holding the *lease* (a Redis key
with a TTL, renewed on each tick) enqueues; the others are standbys that keep their timetable in step, so the
one that takes over when the leader dies does not replay what the leader already ran. Daily runs (payouts,
reconciliation) also claim a once-per-day key before they start, in case a lease was lost mid-tick; the payout
run is idempotent per seller and period on top of that (a unique key in PostgreSQL).

It also survives Redis going away (a restart, a failover): the loop waits and carries on.
"""

from __future__ import annotations

import logging
import time

from redis import Redis, RedisError
from rq.cron import CronJob, CronScheduler
from rq.exceptions import StopRequested
from rq.utils import now

log = logging.getLogger(__name__)

LEASE_KEY = "paysplit:scheduler:leader"
# Renew (or take over) at least three times per lease: a leader that stops renewing is replaced within it.
LEASE_SECONDS = 15
ONCE_TTL_SECONDS = 2 * 24 * 3600

_HOLD = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('expire', KEYS[1], ARGV[2])
    return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
    return 1
end
return 0
"""


class Lease:
    """Leadership among scheduler processes: `hold()` takes the lease when free, renews it when ours."""

    def __init__(self, connection: Redis, owner: str, seconds: int = LEASE_SECONDS) -> None:
        self.connection, self.owner, self.seconds = connection, owner, seconds
        self._script = connection.register_script(_HOLD)

    def hold(self) -> bool:
        return bool(self._script(keys=[LEASE_KEY], args=[self.owner, self.seconds]))

    def holder(self) -> str | None:
        found = self.connection.get(LEASE_KEY)
        return found.decode() if isinstance(found, bytes) else found


def claim_once(connection: Redis, name: str) -> bool:
    """True for the first caller of `name` (e.g. `payout_run:2026-11-30`) within two days; False afterwards."""
    return bool(connection.set(f"paysplit:once:{name}", "1", nx=True, ex=ONCE_TTL_SECONDS))


class LeaderScheduler(CronScheduler):
    """rq's CronScheduler that enqueues only while it holds the lease."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lease = Lease(self.connection, self.name)  # rq's name: host:pid:random
        self.leading = False

    def enqueue_jobs(self) -> list[CronJob]:
        leading = self.lease.hold()
        if leading != self.leading:
            log.warning("scheduler %s %s the lease", self.lease.owner, "took" if leading else "lost")
            self.leading = leading
        if leading:
            return super().enqueue_jobs()
        for job in self._cron_jobs:  # the leader ran these: keep this standby's timetable in step
            if job.should_run():
                job.set_enqueue_time(now())
        return []

    def calculate_sleep_interval(self) -> float:
        return min(super().calculate_sleep_interval(), self.lease.seconds / 3)


def run_forever(scheduler: LeaderScheduler) -> None:
    """Run the scheduler until it is told to stop (SIGINT/SIGTERM), riding out Redis outages."""
    while True:
        try:
            scheduler.start()
            return
        except RedisError as exc:
            scheduler.leading = False
            log.warning("scheduler lost Redis (%s); retrying", exc)
            try:
                time.sleep(1)
            except StopRequested:  # rq's signal handlers are still installed
                return
