"""The merchant API through Flask's test client, for any POST (pay.Api only posts payments)."""

from __future__ import annotations

from typing import Any

from tests.support import payments as pay
from webapp.extensions import db


class JsonApi(pay.Api):
    def post(self, path: str, payload: Any, idempotency_key: str | None = None):
        headers = self.headers(**({"Idempotency-Key": idempotency_key} if idempotency_key else {}))
        db.session.rollback()  # never hold a (SQLite) write transaction while the app works
        return self.client.post(path, json=payload, headers=headers)
