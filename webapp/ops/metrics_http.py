"""`GET /metrics` and the per-request bookkeeping: request ids, the request log line, HTTP metrics.

Every request gets a request id (the caller's `Request-Id` when well-formed, else a new one), bound to every
log line it causes and returned in the `Request-Id` header. When metrics are on, each answer counts by route
template (the URL rule, so `/v1/payments/<checkout_id>` is one series however many payments there are).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client.registry import Collector

from webapp.ops import log_context, metrics
from webapp.ops.metrics_state import DatabaseCollector
from webapp.ops.pipeline_metrics import PipelineCollector

bp = Blueprint("metrics", __name__)
log = logging.getLogger("webapp.request")

UNMATCHED = "<unmatched>"


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


# URL parameters that name what a request is about, and the name each gets on log lines.
_LOGGED_VIEW_ARGS = {"payment_event_id": "payment_id", "checkout_id": "checkout_id", "payout_id": "payout_id",
                     "refund_id": "refund_id"}


def _begin() -> None:
    g.request_started = time.perf_counter()
    log_context.start(request_id=log_context.accept_request_id(request.headers.get("Request-Id")))
    args = request.view_args or {}
    log_context.bind(**{name: args.get(key) for key, name in _LOGGED_VIEW_ARGS.items()})


def _finish(response: Response) -> Response:
    request_id = log_context.current_request_id()
    if request_id:
        response.headers["Request-Id"] = request_id
    started = g.pop("request_started", None)  # None: refused before the app's own hooks ran (the input guard)
    elapsed = time.perf_counter() - started if started is not None else None
    route = _route()
    if metrics.enabled() and route != "/metrics":
        metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        if elapsed is not None:
            metrics.HTTP_DURATION.labels(route).observe(elapsed)
    if request.endpoint != "static":
        log.info("request", extra={"method": request.method, "path": request.path, "route": route,
                                   "status": response.status_code,
                                   "duration_ms": round(elapsed * 1000, 1) if elapsed is not None else None,
                                   "merchant_id": g.get("merchant_id")})
    return response


def _forget(error: BaseException | None) -> None:
    log_context.clear()


# What a scrape asks besides the counters: each entry is called (no arguments) at every scrape, inside the app
# context, and must return a prometheus_client Collector. Add a collector class here to publish more gauges.
SCRAPE_COLLECTORS: list[Callable[[], Collector]] = [DatabaseCollector, PipelineCollector]


def collectors() -> list[Collector]:
    return [make() for make in SCRAPE_COLLECTORS]


def _authorized() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    return bool(current_app.config.get("METRICS_PUBLIC"))


@bp.get("/metrics")
def scrape():
    """Prometheus text format. 401 without the right bearer token; 404 where metrics live on an internal port."""
    if not current_app.config.get("METRICS_ENABLED", True):
        abort(404)
    if not _authorized():
        if not current_app.config.get("METRICS_TOKEN"):
            abort(404)
        return Response("unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    return Response(metrics.exposition(collectors()), mimetype="text/plain; version=0.0.4; charset=utf-8")


def init_app(app: Flask) -> None:
    metrics.set_enabled(app.config.get("METRICS_ENABLED", True))
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.register_blueprint(bp)
