"""Side effects that must wait for the commit: live updates to buyers, wake-ups for workers.

Sent inside the transaction, a message could announce a state that then rolls back, and a wake-up could
reach a worker before the row it points at is visible. So effects are collected on the session, keyed
(the last one per key wins), and handed to their handler after the outermost commit; a rollback drops
them. A released savepoint is not a commit (SQLAlchemy fires the same hook for it, so it is ignored); a
rolled-back savepoint drops the effects deferred inside it, since its changes are gone too.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db

_KEY = "after_commit"
_SAVED = "after_commit.savepoints"  # savepoint → the effects deferred before it began
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
        session.info.pop(_SAVED, None)


@event.listens_for(Session, "after_transaction_create")
def _remember_savepoint(session: Session, transaction) -> None:
    if transaction.nested:
        effects = session.info.get(_KEY, {})
        session.info.setdefault(_SAVED, {})[transaction] = {kind: dict(items) for kind, items in effects.items()}


@event.listens_for(Session, "after_soft_rollback")
def _drop_savepoint_effects(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:
        saved = session.info.get(_SAVED, {}).pop(previous_transaction, None)
        if saved is not None:
            session.info[_KEY] = saved
