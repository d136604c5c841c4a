"""The gateway's Prometheus metrics: every family, and the registry a scrape reads.

Counters and histograms are written by whichever process does the work (gunicorn workers, RQ workers, the
scheduler). With PROMETHEUS_MULTIPROC_DIR set, prometheus-client keeps them in files there, one per process,
and a scrape of any web process adds them all up (`MultiProcessCollector`); without it each process counts
alone. Facts read at scrape time (the state of the database, queue depths) come from the collectors passed
to `exposition()` (see webapp.ops.metrics_http.SCRAPE_COLLECTORS), asked afresh at every scrape. This module
imports neither Flask nor the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# Few buckets and few labels on purpose: every series is read back from every process's file at each scrape, so
# series are what a scrape costs (docs/performance.md). 8 buckets still place a p50/p95/p99 within a factor of ~2.
_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

HTTP_REQUESTS = Counter("paysplit_http_requests", "HTTP requests answered, by route template.",
                        ["route", "method", "status"])
HTTP_DURATION = Histogram("paysplit_http_request_duration_seconds", "Time to answer an HTTP request, by route "
                          "template.", ["route"], buckets=_LATENCY)

PAYMENTS = Counter("paysplit_payments", "Payments (checkouts) that reached a status.", ["status"])
PAYMENTS_AMOUNT = Counter("paysplit_payments_amount_minor", "Amounts of payments that reached a status, in minor "
                          "units of their currency.", ["status", "currency"])
PAYMENT_ORDERS = Counter("paysplit_payment_orders", "Payment orders that reached a status.", ["status"])
PAYMENT_ORDERS_AMOUNT = Counter("paysplit_payment_orders_amount_minor", "Amounts of payment orders that reached "
                                "a status, in minor units.", ["status", "currency"])
REFUNDS = Counter("paysplit_refunds", "Refunds that reached a status.", ["status"])
REFUNDS_AMOUNT = Counter("paysplit_refunds_amount_minor", "Amounts of refunds that reached a status, in minor "
                         "units.", ["status", "currency"])
PAYOUTS = Counter("paysplit_payouts", "Payouts that reached a status.", ["status"])
PAYOUTS_AMOUNT = Counter("paysplit_payouts_amount_minor", "Amounts of payouts that reached a status, in minor "
                         "units.", ["status", "currency"])

WEBHOOK_LAG = Histogram("paysplit_webhook_lag_seconds", "From the PSP creating an event to the gateway applying "
                        "it.", buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0))
PSP_REQUESTS = Counter("paysplit_psp_requests", "Calls to the PSP, by operation and outcome (ok, rejected, "
                       "unavailable).", ["operation", "outcome"])
PSP_DURATION = Histogram("paysplit_psp_request_duration_seconds", "Time a PSP call took, retries included.",
                         ["operation"], buckets=_LATENCY)

_state = {"enabled": True}


def set_enabled(enabled: bool) -> None:
    """METRICS_ENABLED: when off, nothing is counted (the request hooks are not even installed)."""
    _state["enabled"] = enabled


def enabled() -> bool:
    return _state["enabled"]


def multiprocess() -> bool:
    """Whether this process counts in files shared by the host's processes: prometheus-client decides when it is
    first imported, from PROMETHEUS_MULTIPROC_DIR in the environment (config.py documents the setting)."""
    return values.ValueClass is not values.MutexValue


def registry(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """What one scrape reads: every process's counters (or this process's alone) and the extra collectors."""
    from prometheus_client import REGISTRY

    collected = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(collected)
    else:
        collected.register(_Registered(REGISTRY))
    for collector in extra:
        collected.register(collector)
    return collected


class _Registered(Collector):
    """The default registry's families, for a registry of our own (single-process mode)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self):
        return self._source.collect()


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The Prometheus text format for a scrape."""
    return generate_latest(registry(extra))
