"""`python -m workers`: an RQ worker for every queue, running jobs inside the Flask app.

It is a SimpleWorker: jobs run in the worker process itself rather than a fork per job, so the app,
its database pool and its PSP client are built once; a job's few milliseconds of overhead matter
because a job drains a batch. `python -m workers cron` runs the periodic relay and sweeper instead;
`python -m workers webhooks` a worker for the webhooks queue alone.
"""

from __future__ import annotations

import logging
import sys

from redis import Redis
from rq import Queue, SimpleWorker

from workers import jobs
from workers.context import get_app
from workers.queues import ALL, DEFAULT, LOW, WEBHOOKS
from workers.scheduler import LeaderScheduler, run_forever


def work(names: tuple[str, ...] = ALL) -> None:
    app = get_app()
    connection = Redis.from_url(app.config["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in names]
    logging.getLogger(__name__).info("worker listening on %s", ", ".join(names))
    # RQ logs two INFO lines per job; the relay alone runs every few seconds, so keep RQ to warnings.
    SimpleWorker(queues, connection=connection).work(with_scheduler=True, logging_level="WARNING")


def cron() -> None:
    app = get_app()
    # Safe on several hosts: only the holder of the lease enqueues (workers/scheduler.py).
    scheduler = LeaderScheduler(connection=Redis.from_url(app.config["REDIS_URL"], socket_timeout=5,
                                                          socket_connect_timeout=2), logging_level="WARNING")
    logging.getLogger(__name__).info("scheduler: relay every %ss, sweeper every %ss, payout run daily at %s UTC",
                                     app.config["RELAY_INTERVAL_SECONDS"], app.config["SWEEP_INTERVAL_SECONDS"],
                                     app.config["PAYOUT_RUN_AT"])
    scheduler.register(jobs.relay, LOW, interval=app.config["RELAY_INTERVAL_SECONDS"], result_ttl=0)
    scheduler.register(jobs.sweep, LOW, interval=app.config["SWEEP_INTERVAL_SECONDS"], result_ttl=0)
    hour, minute = app.config["RECONCILE_AT"].split(":")  # daily, for the previous UTC day (cron times are UTC)
    scheduler.register(jobs.reconcile_yesterday, LOW, cron=f"{int(minute)} {int(hour)} * * *", job_timeout=3600,
                       result_ttl=0, failure_ttl=7 * 24 * 3600)
    hour, minute = app.config["PAYOUT_RUN_AT"].split(":")
    scheduler.register(jobs.payout_run, DEFAULT, cron=f"{int(minute)} {int(hour)} * * *", result_ttl=3600,
                       job_timeout=3600)
    hour, minute = app.config["LEDGER_VERIFY_AT"].split(":")
    scheduler.register(jobs.verify_ledger, LOW, cron=f"{int(minute)} {int(hour)} * * *", job_timeout=3600,
                       result_ttl=0, failure_ttl=7 * 24 * 3600)
    run_forever(scheduler)


if __name__ == "__main__":
    if sys.argv[1:] == ["cron"]:
        cron()
    elif sys.argv[1:] == ["webhooks"]:  # a worker for merchants' webhooks only (docs/webhooks.md)
        work((WEBHOOKS,))
    else:
        work()
