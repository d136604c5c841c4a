"""Error handlers: Stripe-shaped JSON errors under /v1/, finished-looking HTML pages elsewhere."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from webapp.domain.errors import DomainError
from webapp.extensions import limiter

log = logging.getLogger(__name__)

# Stripe's error `type` for each HTTP status we answer with.
_TYPES = {401: "invalid_request_error", 402: "card_error", 409: "idempotency_error"}
_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "resource_missing",
          405: "method_not_allowed", 409: "conflict", 413: "request_too_large", 415: "unsupported_media_type",
          429: "rate_limit", 500: "api_error", 503: "service_unavailable"}


def retry_after_seconds() -> int:
    """Seconds until the limit that refused this request resets (rate-limit headers are off: computing
    them costs a Redis round trip on every request, not only on refused ones)."""
    current = limiter.current_limit
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))


def wants_json() -> bool:
    return request.path.startswith(("/v1/", "/webhooks/", "/checkout-status/"))


def api_error(status: int, message: str, *, code: str | None = None, param: str | None = None,
              error_type: str | None = None) -> Response:
    """A JSON error in Stripe's shape; absent fields are left out rather than null, as Stripe's schema says."""
    body: dict[str, str] = {
        "type": error_type or ("api_error" if status >= 500 else _TYPES.get(status, "invalid_request_error")),
        "code": code or _CODES.get(status, "invalid_request"),
        "message": message,
    }
    if param:
        body["param"] = param
    response = jsonify({"error": body})
    response.status_code = status
    return response


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            error_type = "idempotency_error" if exc.code == "idempotency_error" else None
            return api_error(exc.http_status, exc.message, code=exc.code, param=exc.param, error_type=error_type)
        return _page(exc.http_status, "Request not possible", exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _page(400, "Form expired", "The form was open too long or came from elsewhere. "
                     "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if wants_json():
            response = api_error(status, exc.description or exc.name)
        else:
            response = app.make_response(_page(status, exc.name, exc.description or ""))
        if status == 429:
            retry_after = getattr(exc, "retry_after", None)  # set by the API's own limiter (webapp.api.ratelimit)
            response.headers["Retry-After"] = str(retry_after if isinstance(retry_after, int) else
                                                  retry_after_seconds())
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def backend_unavailable(exc: Exception):
        # A connection to PostgreSQL or Redis dropped mid-request (failover, restart, a terminated backend):
        # nothing was committed that the same request with the same Idempotency-Key will not find again. Any
        # other database error (a constraint, bad SQL) is a bug and stays a logged 500. A pool with no connection
        # free within its timeout is an overload: the same 503.
        if isinstance(exc, DBAPIError) and not (exc.connection_invalidated or isinstance(exc, OperationalError)):
            return unexpected(exc)
        log.warning("backend unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        if wants_json():
            response = api_error(503, "A backend was briefly unavailable; the request was not applied. Retry "
                                 "safely with the same Idempotency-Key.")
        else:
            response = app.make_response(_page(503, "Service Unavailable", "We could not finish this just now. "
                                               "Please try again in a moment."))
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if isinstance(exc, DataError | RecursionError | UnicodeError):
            # The input itself cannot be stored or read (a value out of a column's range, text that is not
            # text): sending it again can never succeed, so it is a 400, not a 500 that invites a retry.
            log.warning("refused a value the database cannot hold on %s %s: %s", request.method, request.path,
                        type(exc).__name__)
            message = ("The request holds a value that cannot be stored (out of range, too long or not valid "
                       "text); correct it rather than retrying.")
            return api_error(400, message) if wants_json() else _page(400, "Request not possible", message)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return api_error(500, "An internal error occurred on our side; the request was not applied. "
                             "It may be retried with the same Idempotency-Key.")
        return _page(500, "Internal Server Error", "Something went wrong on our side. Please try again.")
