"""Stripe's `Idempotency-Key` rules for the merchant API, enforced by a unique constraint.

- same key, same body: the first response is replayed;
- same key, different body: 409 `idempotency_error`;
- same key while the first request is still running: 409, retry later;
- keys expire after 24 hours; a request refused by validation stores nothing, so it can be corrected;
- a key left in flight by a request that crashed is taken over after a minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
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


def _existing(merchant_id: str, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.merchant_id == merchant_id, IdempotencyKey.key == key))


def _reserve(merchant_id: str, key: str, scope: str, request_hash: str) -> StoredResponse | None:
    """Claim the key for this request (committed at once), or answer from an earlier use of it."""
    found = _existing(merchant_id, key)
    now = utcnow()
    if found is not None and (found.created_at < now - KEY_TTL or (
            found.state == "in_flight" and found.created_at < now - ABANDONED_AFTER)):
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
    if found.method_path != scope or found.request_hash != request_hash:
        raise IdempotencyError(
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request.",
            param="Idempotency-Key")
    if found.state == "in_flight":
        raise IdempotencyError("A request with this Idempotency-Key is still in flight; retry in a moment.",
                               param="Idempotency-Key")
    return StoredResponse(found.response_status or 200, json.loads(found.response_body or "{}"), True)


def run(merchant_id: str, key: str | None, scope: str, request_hash: str,
        action: Callable[[], tuple[int, dict]]) -> StoredResponse:
    """Run `action` at most once per key. `action` does its writes without committing; the response is
    stored on the key row and committed together with them, so a crash can never separate the two."""
    if key is None:
        status, body = action()
        db.session.commit()
        return StoredResponse(status, body, False)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.", param="Idempotency-Key")
    stored = _reserve(merchant_id, key, scope, request_hash)
    if stored is not None:
        return stored
    try:
        status, body = action()
        row = _existing(merchant_id, key)
        assert row is not None
        row.state, row.response_status, row.response_body = "done", status, json.dumps(body)
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
        IdempotencyKey.merchant_id == merchant_id, IdempotencyKey.key == key, IdempotencyKey.state == "in_flight"))
    db.session.commit()


def prune() -> int:
    """Delete keys older than 24 hours; returns how many."""
    result = cast(CursorResult, db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEY_TTL)))
    db.session.commit()
    return result.rowcount or 0
