"""`flask metrics serve`: the metrics of this host's processes on an internal port (no token asked).

For production hosts where /metrics must not be reachable on the public web port, and for hosts that run
only RQ workers (they count into PROMETHEUS_MULTIPROC_DIR but serve no HTTP). Bind it to an address only
Prometheus reaches (METRICS_HOST, METRICS_PORT).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import make_server

from webapp.ops import metrics
from webapp.ops.metrics_http import collectors

metrics_group = AppGroup("metrics", help="Prometheus metrics.")


@metrics_group.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: METRICS_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: METRICS_PORT, 9464).")
def serve(host: str | None, port: int | None) -> None:
    """Serve GET /metrics (Prometheus text format) until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    host = host or app.config["METRICS_HOST"]
    port = port or app.config["METRICS_PORT"]

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"metrics live at /metrics\n"]
        with app.app_context():
            body = metrics.exposition(collectors())
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")])
        return [body]

    server = make_server(host, port, wsgi, threaded=True)
    click.echo(f"metrics on http://{host}:{server.server_port}/metrics")
    server.serve_forever()
