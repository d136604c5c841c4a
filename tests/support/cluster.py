"""The gateway spread over hosts: two web hosts and two worker hosts (each a network namespace, see netns.py) in
production mode, against one PostgreSQL and one Redis, behind a load balancer. Every host gets the same settings
from its environment and an instance folder of its own that must stay empty (nothing shared through files)."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from rq import Worker

from config import new_encryption_key
from tests.support.chaos import start_redis_on
from tests.support.netns import Host, Network
from tests.support.processes import ROOT, Process, free_port, python, start
from tests.support.sandbox import API_KEY
from tests.support.system import WEBHOOK_SECRET
from webapp.psp import subscribed_events

WEB_PORT = 8000


@dataclass
class Cluster:
    net: Network
    lb_url: str
    psp_url: str
    redis_url: str
    database_url: str  # from this (root) namespace
    env: dict[str, str]
    log_dir: Path
    processes: dict[str, Process] = field(default_factory=dict)
    demo: dict[str, str] = field(default_factory=dict)

    def host(self, name: str) -> Host:
        return self.net.hosts[name]

    def web_url(self, name: str) -> str:
        return f"http://{self.host(name).address}:{WEB_PORT}"

    def instance(self, name: str) -> Path:
        return self.log_dir.parent / "hosts" / name / "instance"

    def start_on(self, host_name: str, name: str, args: list[str]) -> Process:
        env = {**self.env, "INSTANCE_PATH": str(self.instance(host_name))}
        process = start(name, self.host(host_name).command(args), self.log_dir, env)
        self.processes[name] = process
        return process

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            process.stop(5)


def _wait(what: str, check, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {timeout}s")


def _operator(env: dict[str, str], instance: Path, *args: str) -> str:
    """A one-off command from an operator's machine (migrations, the demo data): not one of the hosts."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, check=True,
                          env={**os.environ, **env, "INSTANCE_PATH": str(instance)}, capture_output=True,
                          text=True).stdout


@contextlib.contextmanager
def cluster(net: Network, work: Path, database: str) -> Iterator[Cluster]:
    """Shared services in the root namespace (on the bridge's address), then two web and two worker hosts."""
    gateway, logs = net.gateway, work / "logs"
    pg_port, redis_port, psp_port, lb_port = free_port(), free_port(), free_port(), free_port()
    services = [start("pg-forwarder", python("-m", "tests.support.tcp_proxy", f"{gateway}:{pg_port}",
                                             "127.0.0.1:5432"), logs)]
    services.append(start_redis_on(redis_port, logs, 0, bind=gateway))
    lb_url = f"http://{gateway}:{lb_port}"
    services.append(start("psp", python("-m", "psp_sandbox", "serve", "--host", gateway, "--port", str(psp_port),
                                        "--db", str(work / "psp.db"), "--tick", "0.2", "--webhook-retry-base", "0.2",
                                        "--allow-remote-control",  # served on the bridge, not loopback
                                        "--webhook-url", f"{lb_url}/webhooks/psp", "--webhook-secret", WEBHOOK_SECRET,
                                        "--webhook-events", ",".join(subscribed_events())), logs))
    services.append(start("load-balancer", python("-m", "tests.support.tcp_proxy", f"{gateway}:{lb_port}",
                                                  *(f"{net.hosts[h].address}:{WEB_PORT}" for h in ("web1", "web2"))),
                          logs))
    env = {"APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "DATA_ENCRYPTION_KEY": new_encryption_key(), "STRIPE_API_KEY": API_KEY,
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": f"http://{gateway}:{psp_port}",
           "DATABASE_URL": f"postgresql://postgres@{gateway}:{pg_port}/{database}",
           "REDIS_URL": f"redis://{gateway}:{redis_port}/0", "PUBLIC_BASE_URL": lb_url,
           "SESSION_COOKIE_SECURE": "false", "FORCE_HTTPS": "false",  # plain http behind a TCP balancer
           "API_RATE_LIMIT": "1000000 per second", "RELAY_INTERVAL_SECONDS": "1",
           "PSP_SYNC_AFTER_SECONDS": "5", "SWEEP_INTERVAL_SECONDS": "3", "OUTBOX_LEASE_SECONDS": "5",
           "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": "10", "PYTHONUNBUFFERED": "1"}
    found = Cluster(net, lb_url, env["STRIPE_API_BASE"], env["REDIS_URL"],
                    f"postgresql://postgres@127.0.0.1:5432/{database}", env, logs)
    try:
        _wait("the PSP", lambda: requests.get(f"{found.psp_url}/_sandbox/health", timeout=2).ok)
        operator = work / "operator"
        _operator(env, operator, "db", "upgrade")
        _operator(env, operator, "demo", "seed")
        found.demo = dict(line.split("=", 1) for line in (operator / "demo.env").read_text().splitlines()
                          if "=" in line and not line.startswith("#"))
        for host in ("web1", "web2"):
            found.start_on(host, host, python("-m", "gunicorn", "--bind", f"{net.hosts[host].address}:{WEB_PORT}",
                                              "--worker-class", "gthread", "--workers", "1", "--threads", "16",
                                              "wsgi:app"))
        for host in ("worker1", "worker2"):
            found.start_on(host, f"{host}-rq", python("-m", "workers"))
        for host in ("web1", "web2"):
            _wait(host, lambda host=host: requests.get(f"{found.web_url(host)}/healthz", timeout=2).ok)
        connection = redis.Redis.from_url(found.redis_url)
        _wait("two RQ workers", lambda: Worker.count(connection=connection) >= 2)
        yield found
    finally:
        found.stop()
        for process in reversed(services):
            process.stop(5)
