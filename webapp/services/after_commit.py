"""Side effects that must wait for the commit: live updates to buyers, wake-ups for workers.

Sent inside the transaction, a message could announce a state that then rolls back, and a wake-up could
reach a worker before the row it points at is visible. So effects are collected on the session, keyed
(the last one per key wins), and handed to their handler after the outermost commit; a rollback drops
them. A released or rolled-back savepoint is neither: SQLAlchemy fires the same hooks for savepoints,
so those are ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db

_KEY = "after_commit"
_handlers: dict[str, Callable[[dict], None]] = {}


def register(kind: str, handler: Callable[[dict], None]) -> None:
    """`handler(items)` runs after each commit that deferred effects of `kind` ({key: value})."""
    _handlers[kind] = handler


def defer(kind: str, key: str, value: object = None) -> None:
    db.session.info.setdefault(_KEY, {}).setdefault(kind, {})[key] = value


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the real commit is still to come
    for kind, items in session.info.pop(_KEY, {}).items():
        _handlers[kind](items)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit: drop its effects
        session.info.pop(_KEY, None)
