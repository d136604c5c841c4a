"""The sandbox's Flask application: Stripe's API, the payment page, controls, reports and dashboard."""

from __future__ import annotations

import json

from flask import Flask, Response, request
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
    return app


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
