"""The whole gateway as real processes: migrated database, demo data, gunicorn web and live servers, RQ workers.

As `make run` lays it out: checkout pages open their live-status WebSocket on the live server (LIVE_URL), a
gunicorn of its own, not on the web server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from rq import Worker

from tests.support.processes import ROOT, Process, free_port, python, start, wait_http
from tests.support.sandbox import API_KEY, start_sandbox
from webapp.psp import subscribed_events

WEBHOOK_SECRET = "whsec_e2e_gateway_0123456789abcdef"


@dataclass
class System:
    web_url: str
    psp_url: str
    env: dict[str, str]
    processes: dict[str, Process] = field(default_factory=dict)
    demo: dict[str, str] = field(default_factory=dict)

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run `flask --app wsgi ARGS` against this system's database and settings."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                              env={**os.environ, **self.env}, capture_output=True, text=True, check=True)

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            process.stop()


def system_env(instance: Path, database_url: str, redis_url: str, web_port: int,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "APP_ENV": "development",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        **(extra or {}),
    }


def metrics_dir(instance: Path) -> Path:
    """An empty folder the system's processes share their Prometheus metrics through, as `flask serve` makes."""
    folder = instance / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()
    return folder


DEFAULT_WEB_ARGS = ("--workers", "1", "--threads", "16")
DEFAULT_LIVE_ARGS = ("--workers", "1", "--threads", "64")


def start_system(instance: Path, database_url: str, redis_url: str, log_dir: Path,
                 extra_env: dict[str, str] | None = None, workers: int = 1,
                 web_args: tuple[str, ...] = DEFAULT_WEB_ARGS, psp_args: tuple[str, ...] = (),
                 live_args: tuple[str, ...] = DEFAULT_LIVE_ARGS) -> System:
    """The PSP sandbox, then migrate and seed the demo, then gunicorn, `workers` RQ workers and the scheduler."""
    web_port, live_port = free_port(), free_port()
    psp = start_sandbox(log_dir, webhook_url=f"http://127.0.0.1:{web_port}/webhooks/psp",
                        webhook_secret=WEBHOOK_SECRET, name="psp",
                        extra_args=("--webhook-events", ",".join(subscribed_events()), *psp_args))
    env = system_env(instance, database_url, redis_url, web_port,
                     {"STRIPE_API_BASE": psp.url, "STRIPE_API_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                      "RELAY_INTERVAL_SECONDS": "1", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(instance)),
                      "LIVE_URL": f"ws://127.0.0.1:{live_port}", **(extra_env or {})})
    system = System(f"http://127.0.0.1:{web_port}", psp.url, env)
    system.processes["psp"] = psp
    system.flask("db", "upgrade")
    system.flask("demo", "seed")
    system.demo = dict(line.split("=", 1) for line in (instance / "demo.env").read_text().splitlines()
                       if "=" in line and not line.startswith("#"))
    web = start("web", python("-m", "gunicorn", "--bind", f"127.0.0.1:{web_port}", "--worker-class", "gthread",
                              "--logger-class", "webapp.ops.gunicorn_logging.StructuredLogger", *web_args, "wsgi:app"),
                log_dir, env)
    system.processes["web"] = web
    live = start("live", python("-m", "gunicorn", "--bind", f"127.0.0.1:{live_port}", "--worker-class", "gthread",
                                *live_args, "wsgi:app"), log_dir, env)
    system.processes["live"] = live
    wait_http(web, f"{system.web_url}/healthz")
    wait_http(live, f"http://127.0.0.1:{live_port}/healthz")
    for index in range(workers):
        system.processes[f"worker{index}"] = start(f"worker{index}", python("-m", "workers"), log_dir, env)
    system.processes["scheduler"] = start("scheduler", python("-m", "workers", "cron"), log_dir, env)
    wait_for_workers(redis_url, workers)
    return system


def wait_for_workers(redis_url: str, count: int, timeout: float = 60) -> None:
    """On a busy machine an RQ worker takes seconds to start; a test's first checkout needs one listening."""
    connection = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=connection) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} RQ worker(s) did not start within {timeout} s")
        time.sleep(0.1)
