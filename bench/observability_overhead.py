"""CPU cost of what metrics and logs add to one HTTP request, measured in isolation (no server, no database).

    .venv/bin/python bench/observability_overhead.py [--requests 20000]

Per request the app: takes or makes a request id and binds it (context variables), counts the request and its
duration in prometheus-client's multiprocess files, and writes one JSON `request` line through structlog with
card-number redaction. This times exactly those calls, in CPU time of this process (so the shared machine's
other load does not count), next to the web server's CPU time per `POST /v1/payments` that
bench/observability_cost.py measures.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-overhead-"))  # before prometheus

from harness import save  # noqa: E402

from webapp import logging_setup  # noqa: E402
from webapp.ops import log_context, metrics  # noqa: E402


def cpu_microseconds(step, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        step()
    return round((time.process_time() - started) / count * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    sink = io.StringIO()
    logging_setup.setup("json", "INFO", sink)
    log = logging.getLogger("webapp.request")

    def request_id() -> None:
        log_context.start(request_id=log_context.accept_request_id(None))
        log_context.bind(payment_id="pay_2RGAXOXxogpReU9LUBR8nvJt", checkout_id="chk_bench_1")

    def count() -> None:
        metrics.HTTP_REQUESTS.labels("/v1/payments", "POST", "201").inc()
        metrics.HTTP_DURATION.labels("/v1/payments").observe(0.012)

    def log_line() -> None:
        log.info("request", extra={"method": "POST", "path": "/v1/payments", "route": "/v1/payments",
                                   "status": 201, "duration_ms": 12.3, "merchant_id": "mer_3kTzQ8bench"})
        sink.seek(0)
        sink.truncate()

    figures = {name: cpu_microseconds(step, args.requests)
               for name, step in (("request_id_us", request_id), ("metrics_us", count), ("json_log_line_us", log_line))}
    figures["total_us"] = round(sum(figures.values()), 2)
    save("observability_overhead", {"requests": args.requests, **figures})


if __name__ == "__main__":
    main()
