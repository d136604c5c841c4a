"""Two schedulers on two hosts against one Redis: only the lease holder enqueues; a standby takes over when the
leader stops renewing, without replaying what the leader ran; daily runs are claimed once per day."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue

from workers import jobs
from workers.scheduler import LEASE_KEY, LeaderScheduler, claim_once


@pytest.fixture
def connection(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


def _scheduler(connection, name: str) -> LeaderScheduler:
    scheduler = LeaderScheduler(connection=connection, name=name)
    scheduler.lease.seconds = 1
    scheduler.register(jobs.relay, "low", interval=4, result_ttl=0)
    return scheduler


def test_only_the_lease_holder_enqueues_and_a_standby_takes_over(connection):
    first, second = _scheduler(connection, "host-a"), _scheduler(connection, "host-b")
    low = Queue("low", connection=connection)
    for tick in range(3):
        if tick:
            time.sleep(0.6)  # the leader renews within its lease...
        first.enqueue_jobs()
        second.enqueue_jobs()
    assert (first.leading, second.leading) == (True, False)
    assert first.lease.holder() == first.lease.owner
    assert low.count == 1  # the leader's tick; the standby's due tick was skipped, not queued
    time.sleep(1.1)  # the leader died: it stops renewing and its lease runs out
    assert connection.get(LEASE_KEY) is None
    second.enqueue_jobs()
    assert second.leading and second.lease.holder() == second.lease.owner
    assert low.count == 1, "the standby's timetable followed the leader's: nothing was due at the takeover"
    time.sleep(2.5)  # one interval after the leader's tick
    second.enqueue_jobs()
    first.enqueue_jobs()  # the old leader comes back: it is a standby now
    assert (first.leading, low.count) == (False, 2)


def test_a_daily_run_is_claimed_once(connection):
    assert claim_once(connection, "payout_run:2026-11-30")
    assert not claim_once(connection, "payout_run:2026-11-30")
    assert claim_once(connection, "payout_run:2026-12-01")
    assert 0 < connection.ttl("paysplit:once:payout_run:2026-11-30") <= 2 * 24 * 3600
