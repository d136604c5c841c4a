"""The sandbox's Flask application: Stripe's API, the payment page, controls, reports and dashboard."""

from __future__ import annotations

import ipaddress
import json

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from psp_sandbox import api, connect_controls, controls, dashboard, page, reports
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError


def create_app(sb: Sandbox) -> Flask:
    app = Flask(__name__)
    app.extensions["psp_sandbox"] = sb
    api.register(app)
    for blueprint in (page.bp, controls.bp, connect_controls.bp, reports.bp, dashboard.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _http_error)
    app.before_request(_control_from_loopback_only)
    return app


CONTROL_PREFIX = "/_sandbox"


def _control_from_loopback_only() -> Response | None:
    """The controls move the clock, inject faults and resend events: only for the machine's own clients unless
    the server was started with --allow-remote-control. (The API needs an sk_test_ key; the payment page is
    for buyers and stays reachable.)"""
    if not request.path.startswith(CONTROL_PREFIX):
        return None
    sb = current_app.extensions["psp_sandbox"]
    if sb.settings.allow_remote_control or _is_loopback(request.remote_addr):
        return None
    return Response(json.dumps({"error": {"type": "invalid_request_error", "message":
                                          "The sandbox's control endpoints answer only on loopback; start it with "
                                          "--allow-remote-control to open them to other hosts."}}),
                    403, mimetype="application/json")


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def _http_error(error: HTTPException) -> Response | HTTPException:
    """Unknown API URLs get Stripe's error body, so SDK users see what went wrong."""
    if not request.path.startswith("/v1/"):
        return error
    if error.code in (404, 405):
        failure = StripeError(404, "invalid_request_error",
                              f"Unrecognized request URL ({request.method}: {request.path}).")
    else:
        failure = StripeError(error.code or 500, "api_error", "The sandbox could not handle this request.")
    return Response(json.dumps(failure.as_json()), failure.status, mimetype="application/json")
