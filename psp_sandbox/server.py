"""Serve the sandbox with gunicorn's threaded worker, embedded through its Python API.

One worker process holds all state (the clock ticker and webhook dispatcher are threads in it), and
its threads serve requests concurrently over keep-alive connections; SQLite in WAL mode lets them
read in parallel. The ticker and dispatcher start inside the worker, after gunicorn has forked it.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from psp_sandbox import jobs
from psp_sandbox.app import create_app
from psp_sandbox.context import Sandbox
from psp_sandbox.settings import Settings
from webapp import logging_setup  # the gateway's log format and card-number masking, so both read alike


class SandboxServer(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": self.settings.threads,
            "keepalive": 75,
            # Requests held by the `timeout` fault sleep in their thread; the worker's heartbeat is separate.
            "timeout": 120,
            "graceful_timeout": 1,
            "accesslog": None,
            "loglevel": "warning",
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # After gunicorn set up its own log handlers: every line, the server's included, goes out the same way.
        logging_setup.setup(self.settings.log_format)
        sb = Sandbox.open(self.settings)
        sb.dispatcher.start()
        jobs.start_ticker(sb)
        return create_app(sb)


def serve(settings: Settings) -> None:
    SandboxServer(settings).run()
