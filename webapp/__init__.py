"""The gateway's Flask application factory."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from flask import Flask

from config import INSTANCE_DIR, ROOT, Config, load_config


class Gateway(Flask):
    """Flask, asking once per function whether it must be run as a coroutine. Flask asks before every call of
    every view and request hook (a dozen times a request, ~5 % of a webhook's CPU), though the answer never
    changes; the functions asked about are the registered ones, so the memo stays as small as the app."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_versions: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync_versions.get(func)
        if found is None:
            found = self._sync_versions[func] = super().ensure_sync(func)
        return found


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    """Build the application: settings, extensions, blueprints, error handlers and CLI commands."""
    config = config or load_config()
    app = Gateway(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_mapping(config.as_dict())
    app.config.update(overrides)

    from webapp import cli, errors, input_guard, logging_setup, machine_routes
    from webapp.extensions import limit_decorated_views_only, register_extensions
    from webapp.routes import register_blueprints

    logging_setup.configure(app)
    from webapp.ops import metrics_http

    metrics_http.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    limit_decorated_views_only(app)
    machine_routes.skip_browser_hooks(app)
    errors.register(app)
    input_guard.register(app)
    cli.register(app)
    return app


def freeze_long_lived() -> None:
    """Once a process has built its app: everything made so far lives as long as the process, so it leaves the
    garbage collector's generations (gc.freeze). A full collection then walks only what requests make, instead
    of the whole app on one request in ten or so (it tripled a `/metrics` scrape's p95, docs/performance.md)."""
    gc.collect()
    gc.freeze()
