"""Start the project's real processes (web server, workers, PSP sandbox) for tests, on free ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """A child process whose output goes to a log file, so a failing test can show it."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    url: str | None = None
    extra: dict = field(default_factory=dict)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10) -> None:
        """Stop the process and whatever it started (its session's process group: an RQ worker's scheduler
        child, a server's worker processes), so nothing outlives the test that started it."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL, as a crash would, to the process and whatever it started (an RQ worker's scheduler child would
        otherwise outlive the test on the session's Redis)."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)


def start(name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Process:
    """Start `args` (a Python module invocation or any command) with the project root as cwd."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            args, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(name, popen, log_path)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def wait_http(process: Process, url: str, timeout: float = 30) -> None:
    """Wait until `url` answers with any HTTP status below 500, or fail showing the process log."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n{process.log_tail()}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException as exc:
            last_error = exc
        time.sleep(0.1)
    process.stop()
    raise RuntimeError(f"{process.name} not ready at {url} after {timeout}s ({last_error}):\n{process.log_tail()}")
