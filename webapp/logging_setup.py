"""Logging that can never leak a card number: every record passes through a redacting filter.

Every process (web, workers, scheduler, the PSP sandbox) logs through structlog: one JSON object per line
(`timestamp`, `level`, `event`, `logger`, plus whatever is bound: `request_id`, `payment_id`, ...), or a
human-readable line on a terminal (LOG_FORMAT=auto|json|console). Standard-library loggers (gunicorn, RQ,
our modules' `logging.getLogger`) go through the same formatter, so their lines look the same. `redact()`
runs on every line twice over: as a filter on the handler (the message) and as the last step before
rendering (every value, tracebacks included).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO
from urllib.parse import unquote_plus

import structlog
from flask import Flask

from webapp.domain.cards import TEXT_JOINER, contains_card_number, mask_card_numbers, may_hold_card


def redact(text: str) -> str:
    """`text` with every card number masked, as the API's detector finds them (any Unicode digits, any
    separators), also when it is percent-encoded as in an access log's request line ("4242%204242…")."""
    if "%" not in text and "+" not in text and not may_hold_card(text):
        return text  # most values: no run of digits long enough, and nothing that decodes into a longer one
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
    record = _base_factory(*args, **kwargs)
    # structlog's own records carry the line as a dict, redacted value by value before rendering (redact_event).
    return record if isinstance(record.msg, dict) else RedactCardNumbers.redact_record(record)


def _redact_values(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_values(item) for item in value]
    return value


_NOT_TEXT_BUT_FLAT = (int, float, type(None))


def redact_event(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor: `redact()` on every string value of the line (after tracebacks became text)."""
    texts = []
    for value in event_dict.values():
        if isinstance(value, str):
            texts.append(value)
        elif not isinstance(value, _NOT_TEXT_BUT_FLAT):
            break  # a nested value: redacted value by value below
    else:
        # A flat line (most are): its texts joined take one quick test; when it finds nothing, `redact()` would
        # leave every value as it is.
        joined = TEXT_JOINER.join(texts)
        if "%" not in joined and "+" not in joined and not may_hold_card(joined):
            return event_dict
    return {key: _redact_values(value) for key, value in event_dict.items()}


class _RedactStdlibRecords(RedactCardNumbers):
    """The filter for standard-library records; structlog's own carry a dict, redacted value by value."""

    def filter(self, record: logging.LogRecord) -> bool:
        return True if isinstance(record.msg, dict) else super().filter(record)


def resolve_format(log_format: str, stream: TextIO) -> str:
    """`auto`: console on a terminal, JSON otherwise (a process manager, a container, a file)."""
    if log_format != "auto":
        return log_format
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


# Added to every line, structlog's own and the standard library's.
_COMMON: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    structlog.processors.StackInfoRenderer(),
]


def _renderer(fmt: str, stream: TextIO) -> Any:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback)
    return structlog.processors.JSONRenderer()


_HANDLER = "paysplit"


def setup(log_format: str = "auto", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log line of this process, structlog's and the standard library's, to `stream` (stderr)."""
    stream = stream or sys.stderr
    fmt = resolve_format(log_format, stream)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_COMMON, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    # Tracebacks become text before redaction, so a card number in an exception is masked too.
                    structlog.processors.format_exc_info, redact_event,
                    _renderer(fmt, stream)],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.set_name(_HANDLER)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER:  # set up again (another app in the same process): replace ours only
            root.removeHandler(old)
    root.addHandler(handler)
    logging.setLogRecordFactory(_redacting_factory)  # records of handlers added later (RQ's, a test's) too
    # Every handler, ours and any other (a test runner's capture), masks card numbers.
    for each in root.handlers:
        if not any(isinstance(f, RedactCardNumbers) for f in each.filters):
            each.addFilter(_RedactStdlibRecords())
    root.setLevel(level.upper())
    # No line shows where in the source it was logged, nor the thread or process: the logging HOWTO's
    # "Optimization" settings spare collecting them for every record (a tenth of a request line's CPU).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per PSP call is noise; we log our own
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin in every process
    # Servers that bring their own handlers write through ours instead. Gunicorn's access line is left out: the
    # app logs one line per request itself, with its route, request id and duration.
    for name in ("gunicorn.error", "gunicorn.access", "werkzeug"):
        named = logging.getLogger(name)
        for old in list(named.handlers):
            named.removeHandler(old)
        named.propagate = True
    logging.getLogger("gunicorn.access").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_COMMON, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure(app: Flask) -> None:
    """This process's logging, from the app's LOG_FORMAT and LOG_LEVEL settings."""
    setup(app.config.get("LOG_FORMAT", "auto"), app.config.get("LOG_LEVEL", "INFO"))
