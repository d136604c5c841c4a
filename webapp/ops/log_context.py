"""What every log line of a piece of work carries: the request that caused it and the payment it concerns.

The values live in context variables (structlog's), so any code, Flask-free services included, can read the
current request id (`outbox.add` stores it on the rows it writes) and bind more while it works on something.
A web request binds its `request_id` first; a worker binds the one stored on each outbox row it handles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from webapp.dbtypes import new_id

# An incoming Request-Id is kept when it is this harmless; anything else is replaced by a fresh one.
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{7,99}")


def new_request_id() -> str:
    # Letters and digits mixed, like every id here: a long run of digits would look like a card number to redact().
    return new_id("req", 24)


def accept_request_id(incoming: str | None) -> str:
    """The caller's request id when it is well-formed (letters, digits, `_.:-`, 8 to 100 long), else a new one."""
    return incoming if incoming and _VALID.fullmatch(incoming) else new_request_id()


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def start(**values: object) -> None:
    """Begin a fresh context (a web request): forget whatever an earlier piece of work bound."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**values)


def bind(**values: object) -> None:
    """Add `values` to the current context; None values are left out."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


def clear() -> None:
    structlog.contextvars.clear_contextvars()


@contextmanager
def bound(**values: object) -> Iterator[None]:
    """`values` on every log line inside the block (None values left out); the previous ones come back after."""
    tokens = structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
