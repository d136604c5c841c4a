"""Stripe's `Idempotency-Key` rules for the merchant API, enforced by a unique constraint.

- same key, same body: the first response is replayed;
- same key, different body: 409 `idempotency_error`;
- same key while the first request is still running: 409, retry later;
- keys expire after 24 hours; a request refused by validation stores nothing, so it can be corrected;
- a key left in flight by a request that crashed is taken over after a minute.

A new checkout on PostgreSQL claims its key, as done, in the one statement that inserts it
(webapp.services.payment_writes), and `answer_found` answers a repeat from the key's row that statement read; every
other case comes here to `run`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from webapp.dbtypes import utcnow
from webapp.domain.errors import Conflict, ValidationError
from webapp.extensions import db
from webapp.models import IdempotencyKey

KEY_TTL = timedelta(hours=24)
# A key still "in flight" after this belongs to a request whose process died before finishing (its
# transaction rolled back with it, so nothing was written): the next request may take the key over.
ABANDONED_AFTER = timedelta(seconds=60)
MAX_KEY_LENGTH = 255


class IdempotencyError(Conflict):
    code = "idempotency_error"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict
    replayed: bool


class KeyState(StrEnum):
    """idempotency_keys.state"""

    IN_FLIGHT = "in_flight"
    DONE = "done"


@dataclass(frozen=True)
class Recorded:
    """A key's row as a statement outside the session found it (the columns the answer is decided on)."""

    method_path: str
    request_hash: str
    state: str
    response_status: int | None
    response_body: str | None
    created_at: datetime


def _existing(merchant_id: str, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.merchant_id == merchant_id, IdempotencyKey.key == key))


def checked(key: str) -> str:
    """The key as sent, or a 400 when it is empty or too long."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.", param="Idempotency-Key")
    return key


def _free_again(found: IdempotencyKey | Recorded, now: datetime) -> bool:
    """Expired after 24 hours, or abandoned in flight by a crashed request: the key may be taken afresh."""
    return found.created_at < now - KEY_TTL or (
        found.state == KeyState.IN_FLIGHT and found.created_at < now - ABANDONED_AFTER)


def _answer(found: IdempotencyKey | Recorded, key: str, scope: str, request_hash: str) -> StoredResponse:
    """What an earlier use of the key answers this request: its stored response, or 409 (another body or
    endpoint, or the first request still running)."""
    if found.method_path != scope or found.request_hash != request_hash:
        raise IdempotencyError(
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request.",
            param="Idempotency-Key")
    if found.state == KeyState.IN_FLIGHT:
        raise IdempotencyError("A request with this Idempotency-Key is still in flight; retry in a moment.",
                               param="Idempotency-Key")
    return StoredResponse(found.response_status or 200, json.loads(found.response_body or "{}"), True)


def answer_found(found: Recorded | None, key: str, scope: str, request_hash: str) -> StoredResponse | None:
    """A one-statement write that would have claimed the key found it taken: the answer of the row it saw (a
    replay, or 409). None when it saw no row (another request's claim, committed after the statement began, is
    not visible to it) or a row free again: `run` then sorts it out in the session, exactly as without the
    one-statement write."""
    if found is None or _free_again(found, utcnow()):
        return None
    return _answer(found, key, scope, request_hash)


def _reserve(merchant_id: str, key: str, scope: str, request_hash: str) -> StoredResponse | None:
    """Claim the key for this request (committed at once), or answer from an earlier use of it."""
    found = _existing(merchant_id, key)
    if found is not None and _free_again(found, utcnow()):
        db.session.delete(found)  # expired after 24 hours, or abandoned by a crashed request: start afresh
        db.session.commit()
        found = None
    if found is None:
        db.session.add(IdempotencyKey(merchant_id=merchant_id, key=key, method_path=scope,
                                      request_hash=request_hash))
        try:
            db.session.commit()
            return None
        except IntegrityError:
            db.session.rollback()
            found = _existing(merchant_id, key)
            if found is None:
                raise IdempotencyError("A request with this Idempotency-Key is being processed; retry.")
    return _answer(found, key, scope, request_hash)


def run(merchant_id: str, key: str | None, scope: str, request_hash: str,
        action: Callable[[], tuple[int, dict]]) -> StoredResponse:
    """Run `action` at most once per key. `action` does its writes without committing; the response is
    stored on the key row and committed together with them, so a crash can never separate the two."""
    if key is None:
        status, body = action()
        db.session.commit()
        return StoredResponse(status, body, False)
    stored = _reserve(merchant_id, checked(key), scope, request_hash)
    if stored is not None:
        return stored
    try:
        status, body = action()
        row = _existing(merchant_id, key)
        assert row is not None
        row.state, row.response_status, row.response_body = KeyState.DONE.value, status, json.dumps(body)
        db.session.commit()
        return StoredResponse(status, body, False)
    except BaseException:
        _release_after_failure(merchant_id, key)
        raise


def _release_after_failure(merchant_id: str, key: str) -> None:
    """Release the key of a request that failed. When the failure was the database connection itself
    (terminated, failed over), the first rollback raises too: try again on a fresh connection, so the client's
    retry is not refused as "in flight" until the key counts as abandoned."""
    for attempt in range(3):
        try:
            db.session.rollback()
            _release(merchant_id, key)
            return
        except DBAPIError:
            if attempt == 2:
                raise


def _release(merchant_id: str, key: str) -> None:
    """Forget a key whose request wrote nothing, so the client can retry it (Stripe does the same)."""
    db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.merchant_id == merchant_id, IdempotencyKey.key == key,
        IdempotencyKey.state == KeyState.IN_FLIGHT.value))
    db.session.commit()


def prune() -> int:
    """Delete keys older than 24 hours; returns how many."""
    result = cast(CursorResult, db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEY_TTL)))
    db.session.commit()
    return result.rowcount or 0
