"""Logging that can never leak a card number: every record passes through a redacting filter."""

from __future__ import annotations

import logging
import re

from flask import Flask

# 13-19 digits, optionally grouped by spaces or dashes: anything that could be a card number.
_CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def redact(text: str) -> str:
    return _CARD_LIKE.sub("[REDACTED]", text)


class RedactCardNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure(app: Flask) -> None:
    """Install the redacting filter on every handler of the root and Flask loggers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per PSP call is noise
    for logger in (logging.getLogger(), app.logger, logging.getLogger("werkzeug"), logging.getLogger("gunicorn.error")):
        for handler in logger.handlers:
            if not any(isinstance(f, RedactCardNumbers) for f in handler.filters):
                handler.addFilter(RedactCardNumbers())
