"""Reading the console's filter query strings: bad input becomes a message on the page, never a 500."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class Filters:
    """`request.args` read leniently: each bad value is dropped and explained in `errors`."""

    def __init__(self, args) -> None:
        self.args = args
        self.errors: list[str] = []

    def text(self, name: str, limit: int = 255) -> str | None:
        value = (self.args.get(name) or "").strip()
        if len(value) > limit:
            self.errors.append(f"{name.replace('_', ' ').capitalize()} is at most {limit} characters.")
            return None
        return value or None

    def day(self, name: str, label: str) -> date | None:
        raw = (self.args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.append(f"{label}: give a date as YYYY-MM-DD, not {raw[:20]!r}.")
            return None

    def choice(self, name: str, enum: type[E], label: str) -> E | None:
        raw = (self.args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return enum(raw)
        except ValueError:
            self.errors.append(f"{label}: unknown value {raw[:30]!r}.")
            return None

    def integer(self, name: str) -> int | None:
        raw = (self.args.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isdigit() or len(raw) > 18:
            self.errors.append("This page link is damaged: start again from the first page.")
            return None
        return int(raw)
