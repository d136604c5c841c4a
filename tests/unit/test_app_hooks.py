"""The app asks once per function whether Flask must run it as a coroutine, and still runs each kind right."""

from __future__ import annotations

import flask

from config import load_config
from webapp import create_app


def test_the_app_asks_once_per_function(monkeypatch):
    app = create_app(load_config("test"))
    asked = []
    monkeypatch.setattr(flask.Flask, "ensure_sync", lambda self, func: asked.append(func) or func)

    def view() -> str:
        return "ok"

    assert app.ensure_sync(view) is view
    assert app.ensure_sync(view) is view
    assert asked == [view]


def test_sync_views_and_hooks_still_run():
    app = create_app(load_config("test"))
    with app.test_request_context("/healthz"):
        for hook in app.before_request_funcs[None]:
            assert app.ensure_sync(hook) is hook
    assert app.test_client().get("/healthz").status_code == 200
