"""Stripe's REST API under `/v1`: authentication, `Stripe-Account`, idempotency, faults, expansion and
Stripe's error bodies, shared by every resource's routes."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError, api_error, idempotency_in_use, invalid, no_such, unauthorized
from psp_sandbox.expand import expand
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.reporting import runs
from psp_sandbox.resources import events
from psp_sandbox.spec import strict
from psp_sandbox.store import Row

bp = Blueprint("api", __name__, url_prefix="/v1")
log = logging.getLogger(__name__)


@dataclass
class Call:
    """One API request as a resource handler sees it."""

    sb: Sandbox
    account: str
    params: dict[str, Any]

    @property
    def is_platform(self) -> bool:
        return self.account == PLATFORM_ACCOUNT

    def require_platform(self) -> None:
        if not self.is_platform:
            raise invalid("This request can only be made by the platform, without a Stripe-Account header.")


def owned(call: Call, object_id: str, type_: str) -> Row:
    """An object of `type_` belonging to the calling account, or Stripe's 404."""
    row = call.sb.store.get(object_id, call.account, type_)
    if row is None:
        raise no_such(type_, object_id)
    return row


def sandbox() -> Sandbox:
    return current_app.extensions["psp_sandbox"]


def route(rule: str, method: str = "GET") -> Callable:
    """Register a handler `(call, **url_args) -> dict | Response`. Parameters are checked against Stripe's
    description and the sandbox's implemented list (`spec/`) first; POSTs run in one transaction with
    their idempotency record."""
    operation = "/v1" + rule

    def decorate(handler: Callable[..., dict | Response]) -> Callable:
        @wraps(handler)
        def view(**url_args: str) -> Response:
            call = Call(sandbox(), g.account, g.params)
            strict.check(method, operation, call.params)
            if method == "POST":
                return _idempotent(call, lambda: _render(call, handler(call, **url_args)))
            result = handler(call, **url_args)
            if isinstance(result, Response):
                return result
            return _respond(200, json.dumps(_render(call, result)))

        view.__name__ = f"{method.lower()}_{handler.__name__}"
        bp.add_url_rule(rule, view.__name__, view, methods=[method])
        return view

    return decorate


def _render(call: Call, body: dict | Response) -> dict:
    assert isinstance(body, dict), "only GET handlers may answer with a raw response"
    paths = p.string_list(call.params, "expand")
    return expand(call.sb, dict(body), paths) if paths else dict(body)


@bp.before_request
def _prepare() -> Response | None:
    g.request_id = new_id("req", 14)
    g.account = _authenticate()
    source = request.form if request.method == "POST" else request.args
    g.params = p.decode(source.items(multi=True))
    events.current_request.set((g.request_id, request.headers.get("Idempotency-Key")))
    # From here until its work is committed, the request holds its idempotency key (faults' latency included).
    _claim_key(g.account, request.headers.get("Idempotency-Key") if request.method == "POST" else None)
    decision = sandbox().faults.for_api(request.path)
    if decision.latency:
        time.sleep(decision.latency)
    if decision.error in ("500", "503"):
        return _error(api_error(int(decision.error), "The sandbox injected this error (faults)."))
    g.hold = decision.timeout if decision.error == "timeout" else 0
    return None


# Idempotency keys of requests still running, per account: a second request with the same key gets 409.
_running: set[tuple[str, str]] = set()
_running_lock = threading.Lock()


def _claim_key(account: str, key: str | None) -> None:
    if not key:
        return
    with _running_lock:
        if (account, key) in _running:
            raise idempotency_in_use(key)
        _running.add((account, key))
    g.claimed_key = (account, key)


def _release_key() -> None:
    claimed = g.pop("claimed_key", None)
    if claimed is not None:
        with _running_lock:
            _running.discard(claimed)


@bp.after_request
def _log(response: Response) -> Response:
    """One line per API call with the Request-Id the caller also gets, so both sides' logs can be joined."""
    log.info("api request", extra={"method": request.method, "path": request.path, "status": response.status_code,
                                   "request_id": getattr(g, "request_id", None),
                                   "idempotency_key": request.headers.get("Idempotency-Key")})
    return response


@bp.after_request
def _hold(response: Response) -> Response:
    """The `timeout` fault: the work is done, but the client waits and then gets no usable answer."""
    if getattr(g, "hold", 0):
        time.sleep(g.hold)
        return _error(api_error(504, "The sandbox held this response (faults: timeout)."))
    return response


@bp.teardown_request
def _forget_request(_: BaseException | None) -> None:
    _release_key()
    events.current_request.set(None)


def _authenticate() -> str:
    header = request.headers.get("Authorization", "")
    key = header[7:] if header.startswith("Bearer ") else (request.authorization.username if request.authorization
                                                           else "")
    if not key:
        raise unauthorized("You did not provide an API key. Provide it in the Authorization header, using Bearer "
                           "auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
    if not key.startswith("sk_test_"):
        raise unauthorized(f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}")
    account = request.headers.get("Stripe-Account")
    if not account or account == PLATFORM_ACCOUNT:
        return PLATFORM_ACCOUNT
    if sandbox().store.get(account, PLATFORM_ACCOUNT, "account") is None:
        raise StripeError(403, "invalid_request_error", f"The provided key does not have access to account "
                          f"'{account}' (or that account does not exist).", code="account_invalid")
    return account


def _idempotent(call: Call, run: Callable[[], dict]) -> Response:
    """Stripe's idempotency: the first response to a key is replayed; the same key with other parameters is an
    error. Failed validations roll back with the transaction and so are not stored, and can be retried."""
    key = request.headers.get("Idempotency-Key")
    store = call.sb.store
    if key is not None and len(key) > 255:
        raise invalid("Idempotency keys can be at most 255 characters long.")
    fingerprint = hashlib.sha256(
        json.dumps([request.path, sorted(request.form.items(multi=True))]).encode()
    ).hexdigest()
    with store.write() as conn:
        found = key and conn.execute(
            "SELECT fingerprint, status, body FROM idempotency WHERE account = ? AND key = ?", (call.account, key)
        ).fetchone()
        if found:
            if found[0] != fingerprint:
                raise StripeError(400, "idempotency_error", f"Keys for idempotent requests can only be used with the "
                                  f"same parameters they were first used with. Try using a key other than '{key}' if "
                                  "you meant to execute a different request.")
            return _respond(found[1], found[2], {"Idempotent-Replayed": "true", "Idempotency-Key": key})
        body = json.dumps(run())
        if key:
            conn.execute(
                "INSERT INTO idempotency (account, key, fingerprint, status, body, created) VALUES (?, ?, ?, ?, ?, ?)",
                (call.account, key, fingerprint, 200, body, time.time()),
            )
    _release_key()  # committed: a retry now replays the stored answer, even while a `timeout` fault holds it
    return _respond(200, body, {"Idempotency-Key": key} if key else None)


def _respond(status: int, body: str, headers: dict | None = None) -> Response:
    response = Response(body, status, mimetype="application/json", headers=headers)
    response.headers["Request-Id"] = getattr(g, "request_id", "")
    # One version shapes every object and event, whatever version the client asked for (see events.API_VERSION).
    response.headers["Stripe-Version"] = events.API_VERSION
    return response


def _error(error: StripeError) -> Response:
    should_retry = "true" if error.status >= 500 or error.status == 409 else "false"
    return _respond(error.status, json.dumps(error.as_json()), {"Stripe-Should-Retry": should_retry})


@bp.errorhandler(StripeError)
def _stripe_error(error: StripeError) -> Response:
    return _error(error)


def register(app: Any) -> None:
    from psp_sandbox.api import balance, checkout, connect, events_api, files, payments, reporting  # noqa: F401

    app.register_blueprint(bp)
    runs.resume(app.extensions["psp_sandbox"])
