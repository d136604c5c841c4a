"""Logging that can never leak a card number: every record passes through a redacting filter."""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from flask import Flask

from webapp.domain.cards import contains_card_number, mask_card_numbers


def redact(text: str) -> str:
    """`text` with every card number masked, as the API's detector finds them (any Unicode digits, any
    separators), also when it is percent-encoded as in an access log's request line ("4242%204242…")."""
    masked = mask_card_numbers(text)
    if "%" in masked or "+" in masked:
        decoded = unquote_plus(masked)
        if decoded != masked and contains_card_number(decoded):
            return mask_card_numbers(decoded)
    return masked


class RedactCardNumbers(logging.Filter):
    """Masks card numbers in a record's message, its arguments, its traceback (which carries SQL parameters
    of failed statements) and its stack. Installed on every handler and as the record factory's last step, so
    handlers added later (gunicorn's access log, RQ's worker log) are covered too."""

    def filter(self, record: logging.LogRecord) -> bool:
        self.redact_record(record)
        return True

    @staticmethod
    def redact_record(record: logging.LogRecord) -> logging.LogRecord:
        try:
            message = record.getMessage()
        except Exception:  # a malformed format: keep what it says, masked
            message = f"{record.msg} {record.args}"
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    return RedactCardNumbers.redact_record(_base_factory(*args, **kwargs))


def configure(app: Flask) -> None:
    """Install the redacting filter on every handler of the root and Flask loggers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per PSP call is noise
    logging.setLogRecordFactory(_redacting_factory)
    for logger in (logging.getLogger(), app.logger, logging.getLogger("werkzeug"), logging.getLogger("gunicorn.error"),
                   logging.getLogger("gunicorn.access"), logging.getLogger("rq.worker")):
        for handler in logger.handlers:
            if not any(isinstance(f, RedactCardNumbers) for f in handler.filters):
                handler.addFilter(RedactCardNumbers())
