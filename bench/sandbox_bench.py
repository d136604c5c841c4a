"""Benchmark of the PSP sandbox (figures go to docs/performance.md).

1. Checkout Session creations per second from 16 concurrent keep-alive clients (form-encoded, with an
   Idempotency-Key each, as the SDK sends them). Target: >= 500/s.
2. Webhook deliveries per second to a receiver that answers 200 at once. Deliveries are held
   (`/_sandbox/webhooks/pause`) while payments create the events, then released and timed until the
   receiver has them all. Target: >= 800/s.

The sandbox, the load generator and the receiver are separate processes. Run from the project root:
    .venv/bin/python bench/sandbox_bench.py [--requests 8000] [--payments 4000]
Results are printed and written to bench/results/sandbox_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def start_sandbox(db: Path, webhook_url: str | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = [sys.executable, "-m", "psp_sandbox", "serve", "--port", str(port), "--db", str(db)]
    if webhook_url:
        args += ["--webhook-url", webhook_url, "--webhook-secret", "whsec_bench"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/_sandbox/health")
    return process, url


def load(url: str, kind: str, count: int, clients: int = 16) -> dict:
    output = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "http_load.py"), "--url", url, "--kind", kind,
         "--clients", str(clients), "--requests", str(count)],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    return json.loads(output.splitlines()[-1])


def bench_sessions(workdir: Path, count: int) -> dict:
    process, url = start_sandbox(workdir / "sessions.db")
    try:
        load(url, "sessions", 800)  # warm-up: imports, connections, SQLite pages
        return load(url, "sessions", count)
    finally:
        process.terminate()
        process.wait(10)


def bench_webhooks(workdir: Path, payments: int) -> dict:
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhook_receiver.py"), str(sink_port)])
    sink_url = f"http://127.0.0.1:{sink_port}"
    process, url = start_sandbox(workdir / "webhooks.db", webhook_url=f"{sink_url}/webhooks")
    try:
        wait_http(f"{sink_url}/count")
        requests.post(f"{url}/_sandbox/webhooks/pause", timeout=10)
        made = load(url, "payments", payments)
        expected = sum(1 for _ in _events(url))
        started = time.perf_counter()
        requests.post(f"{url}/_sandbox/webhooks/resume", timeout=10)
        while sum(requests.get(f"{sink_url}/count", timeout=10).json().values()) < expected:
            if time.perf_counter() - started > 300:
                raise RuntimeError("deliveries did not finish within 300 s")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        return {"events": expected, "seconds": round(elapsed, 3), "per_second": round(expected / elapsed, 1),
                "events_created_by": made}
    finally:
        process.terminate()
        process.wait(10)
        sink.terminate()
        sink.wait(10)


def _events(url: str):
    after = ""
    while True:
        data = requests.get(f"{url}/_sandbox/events", params={"after": after, "limit": 500}, timeout=30).json()["data"]
        if not data:
            return
        yield from data
        after = data[-1]["id"]


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=8000, help="session creations to time")
    parser.add_argument("--payments", type=int, default=4000, help="payments whose events are delivered (4 each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"machine": machine(), "sessions": bench_sessions(Path(tmp), args.requests),
                   "webhooks": bench_webhooks(Path(tmp), args.payments)}
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "sandbox_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
