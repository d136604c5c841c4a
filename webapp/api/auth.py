"""API-key authentication for /v1/ routes, and the per-key rate-limit key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from flask import g, request
from werkzeug.exceptions import Unauthorized
from werkzeug.local import LocalProxy

from webapp.extensions import db
from webapp.models import Merchant
from webapp.services import api_keys


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return None


def rate_limit_key() -> str:
    """Requests are counted per presented key (unknown keys too), never per caller address."""
    token = bearer_token() or ""
    return "apikey:" + hashlib.sha256(token.encode()).hexdigest()[:24]


def api_key_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        token = bearer_token()
        if token is None:
            raise Unauthorized("You did not provide an API key. Send it as 'Authorization: Bearer <key>'.")
        identity = api_keys.identify(token)
        if identity is None:
            raise Unauthorized("Invalid API key provided (unknown or revoked).")
        g.api_key_id = identity.key_id
        g.merchant_id = identity.merchant_id
        # Loaded only if a view needs more than the id (creating a payment does not).
        g.merchant = LocalProxy(lambda: db.session.get(Merchant, identity.merchant_id))
        return view(*args, **kwargs)

    return wrapped
