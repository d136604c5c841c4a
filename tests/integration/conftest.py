"""Integration fixtures: the real app on PostgreSQL and on SQLite (every test runs on both), real Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.serving import make_server

from config import load_config
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.support.processes import Process, free_port
from tests.support.sandbox import API_KEY, start_sandbox
from webapp import create_app
from webapp.extensions import db
from webapp.psp import subscribed_events
from workers.context import use_app

WEBHOOK_SECRET = "whsec_gateway_integration_tests_0123456789"


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated database per backend for the whole session; tests empty its tables after themselves."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gateway.db'}"
        drop = None
    else:
        admin_url = request.getfixturevalue("postgres_server")
        name, url = create_postgres_database(admin_url)
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        drop = (admin_url, name)
    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    if drop:
        drop_postgres_database(*drop)


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f'DELETE FROM "{table}"'))
    db.session.commit()


class _CurrentApp:
    """The WSGI app behind the in-process server: whichever test app is current."""

    app: Flask | None = None

    def __call__(self, environ, start_response):
        assert self.app is not None, "no test app is running"
        return self.app(environ, start_response)


_current = _CurrentApp()


@pytest.fixture(scope="session")
def gateway_server() -> Iterator[str]:
    """A real HTTP server (threaded werkzeug) for the current test app, so the sandbox can call webhooks."""
    server = make_server("127.0.0.1", free_port(), _current, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def gateway_psp(gateway_server, tmp_path_factory) -> Iterator[Process]:
    """The PSP sandbox, sending every event to the in-process gateway's webhook endpoint."""
    process = start_sandbox(tmp_path_factory.mktemp("gateway_psp"), webhook_url=f"{gateway_server}/webhooks/psp",
                            webhook_secret=WEBHOOK_SECRET, name="gateway_psp",
                            extra_args=("--webhook-events", ",".join(subscribed_events())))
    yield process
    process.stop()


def app_settings(database_url: str, redis_url: str, psp_url: str, base_url: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url,
            "STRIPE_API_BASE": psp_url, "STRIPE_API_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_MAX_NETWORK_RETRIES": 0, "PUBLIC_BASE_URL": base_url, "OUTBOX_BACKOFF_SECONDS": 0.05}


@pytest.fixture
def app(database_url, redis_url, gateway_psp, gateway_server) -> Iterator[Flask]:
    application = create_app(load_config("test"), **app_settings(database_url, redis_url, gateway_psp.url,
                                                                  gateway_server))
    _current.app = application
    use_app(application)
    with application.app_context():
        yield application
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()
    _current.app = None


@pytest.fixture(autouse=True)
def ledger_verified(request) -> Iterator[None]:
    """After every test that used the app, the ledger's invariants hold (DESIGN.md §6): any violation fails
    the test, with the report naming it. Tests that do not use the app (e.g. the sandbox's own) are left alone."""
    if "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("app")  # set up first, so it is torn down (tables emptied) after this check
    yield
    from webapp.services import verification

    db.session.rollback()
    report = verification.verify()
    assert report.ok, report.text()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"
