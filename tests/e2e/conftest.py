"""End-to-end fixtures: the real system (PostgreSQL, Redis, gunicorn, RQ worker) driven by Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import create_postgres_database, drop_postgres_database, start_redis, unavailable
from tests.support.system import System, start_system

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not found at {CHROMIUM} (make test installs it with apt-get)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def system(postgres_server, tmp_path_factory, logs_dir) -> Iterator[System]:
    """The whole system on its own database and its own Redis: its workers must never take jobs queued by
    the integration tests of the same session (they would run them against the wrong database)."""
    name, url = create_postgres_database(postgres_server)
    redis_process, redis_url = start_redis(logs_dir, "e2e-redis")
    running = start_system(tmp_path_factory.mktemp("instance"), url, redis_url, logs_dir)
    yield running
    running.stop()
    redis_process.stop()
    drop_postgres_database(postgres_server, name)
