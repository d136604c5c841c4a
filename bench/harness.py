"""The real system for benchmarks: a fresh PostgreSQL database, Redis, the PSP sandbox, gunicorn and
RQ workers as separate processes (the same launcher the end-to-end tests use); load comes from the
benchmark's own process or from wrk."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))

from tests.conftest import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
    start_redis,
)
from tests.support.system import DEFAULT_LIVE_ARGS, System, start_system  # noqa: E402

# Unset: every benchmark run starts a redis-server of its own on a free port, so benchmarks run side by side on
# one machine never flush each other's queues.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, {date.today().isoformat()}"


@contextmanager
def running_system(web_args: tuple[str, ...], workers: int = 1, extra_env: dict[str, str] | None = None,
                   live_args: tuple[str, ...] = DEFAULT_LIVE_ARGS) -> Iterator[System]:
    import redis

    name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    own_redis = None
    if BENCH_REDIS_URL:
        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
        redis_url = BENCH_REDIS_URL
    else:
        own_redis, redis_url = start_redis(work / "logs", "redis")
    env = {"API_RATE_LIMIT": "1000000 per second", "LOGIN_RATE_LIMIT": "1000000 per second", **(extra_env or {})}
    system = start_system(work / "instance", url, redis_url, work / "logs", env, workers, web_args,
                          live_args=live_args)
    try:
        yield system
    finally:
        system.stop()
        if own_redis is not None:
            own_redis.stop()
        drop_postgres_database(POSTGRES_ADMIN_URL, name)
        print(f"(process logs kept in {work / 'logs'})", file=sys.stderr)


def wrk(url: str, *, seconds: int, connections: int, script: Path | None = None, threads: int = 2) -> dict:
    """Run wrk in its own process and parse its summary (requests/s, latency percentiles, errors)."""
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark drives load with wrk: install it first (Debian: apt-get install wrk)")
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", str(script)]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    result: dict = {"raw": output}
    for line in output.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            result[f"p{parts[0][:-1]}_ms"] = _ms(parts[1])
        elif "Non-2xx" in line:
            result["non_2xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            result["socket_errors"] = line.strip()
        elif "requests in" in line:
            result["requests"] = int(parts[0])
    return result


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor, 2)
    raise ValueError(text)


def save(name: str, result: dict) -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps({"machine": machine(), **result}, indent=2, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "raw"}, indent=2, default=str))


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _stat(pid: str) -> tuple[str, float] | None:
    """(command name, user + system CPU seconds) of a live process, from /proc/<pid>/stat; None once it is gone."""
    try:
        comm, rest = Path(f"/proc/{pid}/stat").read_text().split(" (", 1)[1].rsplit(")", 1)
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = rest.split()
    return comm, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's master and workers), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(found[1] for one in [str(pid), *children] if (found := _stat(one)) is not None)


def postgres_cpu_seconds() -> float:
    """User + system CPU of the PostgreSQL server's live processes (the backends of open connections among them)."""
    found = (_stat(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return sum(cpu for comm, cpu in filter(None, found) if comm in ("postgres", "postmaster"))


def cpu_by_process(system: System) -> dict[str, float]:
    """CPU seconds so far of each of the system's processes (with their children), PostgreSQL's and this one's."""
    spent = {name: cpu_seconds(process.popen.pid) for name, process in system.processes.items()}
    mine = os.times()
    spent.update(postgres=postgres_cpu_seconds(), load_generator=mine.user + mine.system)
    return spent


@contextmanager
def floor_server(module: str, web_args: tuple[str, ...], env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """A floor server (bench/<module>.py) under gunicorn with the gateway's own settings: (its URL, its pid)."""
    from tests.support.processes import free_port, python, start, wait_http

    port = free_port()
    work = Path(tempfile.mkdtemp(prefix=f"bench-{module}-"))
    process = start(module, python("-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench"),
                                   *web_args, f"{module}:app"), work, env)
    try:
        wait_http(process, f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", process.popen.pid
    finally:
        process.stop()


def side_by_side(run: Callable[[str, str, int], dict], targets: dict[str, str], rounds: int, seconds: int,
                 warm_seconds: int) -> list[dict]:
    """The floor and the gateway loaded one right after the other, `rounds` times, the order alternating between
    rounds (after a warm-up run of each: start-up, caches, pools). `run(name, url, seconds)` loads one target
    and returns its figures (rps, p99_ms, server_cpu_ms_per_request…). Each round also gets the gateway/floor
    ratios; every round is printed as it ends."""
    for name, url in targets.items():
        run(name + "warm", url, warm_seconds)
    results = []
    for index in range(rounds):
        order = list(targets) if index % 2 == 0 else list(reversed(targets))
        one = {name: run(name, targets[name], seconds) for name in order}
        one["ratio_rps"] = round(one["gateway"]["rps"] / one["floor"]["rps"], 3)
        one["ratio_p99"] = round(one["gateway"]["p99_ms"] / one["floor"]["p99_ms"], 3)
        one["ratio_cpu_per_request"] = round(one["gateway"]["server_cpu_ms_per_request"]
                                             / one["floor"]["server_cpu_ms_per_request"], 3)
        results.append(one)
        print(json.dumps(one), file=sys.stderr)
    return results


def side_by_side_summary(rounds: list[dict]) -> dict:
    """Medians of the rounds, for each target and for each ratio."""
    def median(name: str, key: str) -> float:
        return round(statistics.median(r[name][key] for r in rounds), 2)

    return {
        "median": {name: {key: median(name, key) for key in ("rps", "p50_ms", "p99_ms", "server_cpu_ms_per_request")}
                   for name in ("floor", "gateway")},
        **{f"median_{ratio}": round(statistics.median(r[ratio] for r in rounds), 3)
           for ratio in ("ratio_rps", "ratio_p99", "ratio_cpu_per_request")},
    }
