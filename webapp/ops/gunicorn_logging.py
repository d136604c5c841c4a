"""Gunicorn's own lines (the master's "Booting worker", errors) in the app's log format.

Use with `gunicorn --logger-class webapp.ops.gunicorn_logging.StructuredLogger` (the Procfile does). The workers
set up the same logging again when they build the app; gunicorn's access line is left out there, because the
app logs one line per request itself (route, status, duration, request id).
"""

from __future__ import annotations

from gunicorn import glogging

from config import log_settings
from webapp import logging_setup


class StructuredLogger(glogging.Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        logging_setup.setup(*log_settings())
