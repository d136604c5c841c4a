"""One Flask application per worker process; each job runs in a fresh app context (and DB session)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from webapp import create_app
from webapp.ops import log_context

_app: Flask | None = None


def get_app() -> Flask:
    global _app
    if _app is None:
        _app = create_app()
    return _app


def use_app(app: Flask) -> None:
    """Make `app` the one jobs run in (the worker entry point builds it once at start)."""
    global _app
    _app = app


@contextmanager
def app_context() -> Iterator[Flask]:
    app = get_app()
    log_context.clear()  # a job starts with nothing bound: it binds what each row it handles names
    with app.app_context():
        yield app
