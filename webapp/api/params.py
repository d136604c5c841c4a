"""Reading what the seller-account and payout routes are sent: JSON bodies, query strings, ids in paths; and
answering a POST through the idempotency keys, exactly as `POST /v1/payments` does.

Everything a client can send is checked here or in the domain parsers before any write, so a bad request
answers 400/404 with the offending `param` and never reaches the database in a shape it would refuse (a NUL
character in a string, an id longer than its column): those would otherwise surface as 500s on PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date

from flask import Response, g, jsonify, request
from werkzeug.exceptions import BadRequest

from webapp import input_guard
from webapp.domain.errors import NotFound, ValidationError
from webapp.domain.payment_requests import request_hash
from webapp.extensions import db
from webapp.models import Merchant
from webapp.services import idempotency

_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")  # our ids: `sel_…`, `pyt_…` (String(40) columns)
MAX_LIMIT = 100


def merchant() -> Merchant:
    """The API key's merchant as a real record (services take a Merchant, not the request's lazy proxy)."""
    found = db.session.get(Merchant, g.merchant_id)
    if found is None:  # the key's merchant was deleted while the request ran
        raise NotFound("No such merchant.")
    return found


def object_id(raw: str, what: str, *, param: str) -> str:
    """An id from a path or a body: one that cannot be ours is missing, like another merchant's."""
    if not _ID.fullmatch(raw):
        raise NotFound(f"No such {what}: {raw[:60]!r}.", param=param)
    return raw


def _no_nul(node: object, path: str) -> None:
    if isinstance(node, str) and "\x00" in node:
        raise ValidationError("Strings must not contain NUL characters.", param=path or None)
    if isinstance(node, dict):
        for key, value in node.items():
            _no_nul(key, path)
            _no_nul(value, f"{path}[{key}]" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _no_nul(value, f"{path}[{index}]")


def json_body() -> object:
    """The request's JSON body (64 KB at most, see payments.limit_body), with no NUL character in any string:
    PostgreSQL cannot store one, so it would otherwise fail the write as an internal error. The input guard has
    parsed and checked it already in the usual case (webapp.input_guard.checked_json)."""
    checked = input_guard.checked_json()
    if checked is not input_guard.NOT_CHECKED:
        return checked
    raw = request.get_data(cache=True)  # raises 413 past the body limit
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The request body must be valid JSON (Content-Type: application/json).")
    _no_nul(document, "")
    return document


def query(allowed: set[str]) -> dict[str, str]:
    """The query string, refusing parameters the endpoint does not know (a typo must not silently widen a
    filter) and repeated ones."""
    for name in request.args:
        if name not in allowed:
            raise ValidationError(f"Received unknown parameter: {name[:60]}.", param=name[:60],
                                  code="parameter_unknown")
        if len(request.args.getlist(name)) > 1:
            raise ValidationError(f"{name} was given more than once.", param=name)
    args = {name: request.args[name] for name in request.args}
    for name, value in args.items():
        _no_nul(value, name)
    return args


def limit_of(args: dict[str, str], default: int = 10) -> int:
    raw = args.get("limit")
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(f"limit must be an integer between 1 and {MAX_LIMIT}.", param="limit")
    return int(raw)


def cursor_of(args: dict[str, str], what: str) -> str | None:
    """`starting_after`: the id of the previous page's last object."""
    raw = args.get("starting_after")
    if raw is not None and not _ID.fullmatch(raw):  # an empty one too: the OpenAPI description refuses it
        raise ValidationError(f"No such {what}: {raw[:60]!r}.", param="starting_after", code="resource_missing")
    return raw


def date_of(args: dict[str, str], name: str) -> date | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a date as YYYY-MM-DD.", param=name)


def idempotent(scope: str, document: object, action: Callable[[], tuple[int, dict]]) -> Response:
    """Run a POST's `action` under its `Idempotency-Key` (if any): a repeat with the same body replays the first
    answer with `Idempotent-Replayed: true`; the same key with another body or endpoint is a 409."""
    result = idempotency.run(g.merchant_id, request.headers.get("Idempotency-Key"), scope, request_hash(document),
                             action)
    response = jsonify(result.body)
    response.status_code = result.status
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def listing(url: str, has_more: bool, data: list[dict]) -> Response:
    """A page in Stripe's list shape."""
    return jsonify({"object": "list", "url": url, "has_more": has_more, "data": data})
