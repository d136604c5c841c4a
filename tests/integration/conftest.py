"""Integration fixtures: the real app on PostgreSQL and on SQLite (every test runs on both), real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from config import load_config
from tests.conftest import create_postgres_database, drop_postgres_database
from webapp import create_app
from webapp.extensions import db


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


@pytest.fixture
def app(database_url, redis_url) -> Iterator[Flask]:
    application = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                             RATELIMIT_STORAGE_URI=redis_url)
    with application.app_context():
        yield application
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"
