"""What metrics and JSON logs cost: `POST /v1/payments` throughput with them on and off, side by side.

    .venv/bin/python bench/observability_cost.py [--rounds 5] [--seconds 15] [--connections 16]

Two complete systems run at once (own database, own Redis database, own processes, same code): "on" counts every
request into Prometheus' multiprocess files and writes a JSON log line per request (LOG_FORMAT=json, INFO);
"off" has METRICS_ENABLED=false and LOG_LEVEL=WARNING (no request lines). Each round loads one, then the other,
with wrk (the order alternates between rounds, so a drift of the shared machine's load hits both alike); the
result is the median of the rounds' requests/s of each, and their ratio. Because requests/s on a shared, busy
machine mostly measures the neighbours, each run also records the web server's CPU time per request (gunicorn's
processes, from /proc), the cost that metrics and logs add whatever the machine's load.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil
import redis
import requests
from harness import save, wrk
from payin_api import LUA
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database
from tests.support.system import System, start_system

SETTINGS = {
    "on": {"METRICS_ENABLED": "true", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"},
    "off": {"METRICS_ENABLED": "false", "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING"},
}
REDIS = {"on": "redis://127.0.0.1:6379/12", "off": "redis://127.0.0.1:6379/13"}


@contextmanager
def system(name: str, web_args: tuple[str, ...], settings: dict[str, str]) -> Iterator[System]:
    redis.Redis.from_url(REDIS[name]).flushdb()
    db_name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    work = Path(tempfile.mkdtemp(prefix=f"bench-obs-{name}-"))
    env = {"API_RATE_LIMIT": "1000000 per second", **settings}
    running = start_system(work / "instance", url, REDIS[name], work / "logs", env, 1, web_args)
    try:
        yield running
    finally:
        running.stop()
        drop_postgres_database(POSTGRES_ADMIN_URL, db_name)


def script_for(running: System) -> Path:
    sellers = running.demo["DEMO_SELLER_ACCOUNTS"].split(",")
    path = Path(tempfile.mkdtemp()) / "create_payment.lua"
    path.write_text(LUA.replace("SELLER_A", sellers[0]).replace("SELLER_B", sellers[1])
                    .replace("API_KEY", running.demo["DEMO_API_KEY"]))
    return path


def web_cpu_seconds(running: System) -> float:
    """CPU time used so far by the web server (gunicorn's master and workers). Per request it says what a request
    costs whatever else the shared machine is doing, which requests/s alone cannot on a busy machine."""
    master = psutil.Process(running.processes["web"].popen.pid)
    total = 0.0
    for process in (master, *master.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def counted_requests(running: System) -> float:
    """What "on" counted for POST /v1/payments: proof that it measured what it says."""
    text = requests.get(running.web_url + "/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "paysplit_http_requests_total" and sample.labels.get("route") == "/v1/payments")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--web", default="--workers 2 --threads 4")
    parser.add_argument("--control", action="store_true",
                        help="A/A run: both systems with metrics and logs off, to see the difference between the two "
                             "slots alone (the noise floor of the comparison)")
    args = parser.parse_args()
    web_args = tuple(args.web.split())
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    with ExitStack() as stack:
        systems = {name: stack.enter_context(system(name, web_args, SETTINGS["off" if args.control else name]))
                   for name in ("on", "off")}
        scripts = {name: script_for(running) for name, running in systems.items()}
        for name, running in systems.items():
            wrk(running.web_url, seconds=5, connections=args.connections, script=scripts[name])  # warm-up
        for round_ in range(args.rounds):
            order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
            for name in order:
                cpu_before = web_cpu_seconds(systems[name])
                result = wrk(systems[name].web_url, seconds=args.seconds, connections=args.connections,
                             script=scripts[name])
                result["web_cpu_ms_per_request"] = round(
                    (web_cpu_seconds(systems[name]) - cpu_before) * 1000 / max(result.get("requests", 0), 1), 2)
                runs[name].append({k: v for k, v in result.items() if k != "raw"})
                print(f"round {round_ + 1} {name:>3}: {result['rps']:.0f} requests/s, p50 {result.get('p50_ms')} ms, "
                      f"p99 {result.get('p99_ms')} ms, {result['web_cpu_ms_per_request']} ms CPU/request", flush=True)
        counted = None if args.control else counted_requests(systems["on"])
        assert requests.get(systems["off"].web_url + "/metrics", timeout=10).status_code == 404
    medians = {name: statistics.median(r["rps"] for r in results) for name, results in runs.items()}
    cpu = {name: statistics.median(r["web_cpu_ms_per_request"] for r in results) for name, results in runs.items()}
    save("observability_cost_control" if args.control else "observability_cost", {
        "gunicorn": args.web, "connections": args.connections, "seconds": args.seconds,
        "rounds": runs, "median_rps": medians, "on_to_off": round(medians["on"] / medians["off"], 3),
        "median_web_cpu_ms_per_request": cpu, "cpu_on_to_off": round(cpu["on"] / cpu["off"], 3),
        "on_counted_post_payments": counted,
    })


if __name__ == "__main__":
    main()
