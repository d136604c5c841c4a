"""Column types and id helpers shared by the tables (kept outside models/ so extensions can import them)."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 20) -> str:
    """A random, unguessable identifier such as `mer_3kTz...`, Stripe style (5.95 bits per character)."""
    number = int.from_bytes(secrets.token_bytes(length))
    chars = []
    for _ in range(length):
        number, index = divmod(number, 62)
        chars.append(_ALPHABET[index])
    return prefix + "_" + "".join(chars)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on both PostgreSQL and SQLite (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Alembic autogenerate hook: write UTCDateTime as the portable type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
