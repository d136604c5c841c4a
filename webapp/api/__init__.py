"""The merchant JSON API under /v1/: Stripe-style errors, API-key auth, per-key rate limits.

The blueprint and what applies to all of it live here; each module adds its routes, and importing the package
registers them all."""

from pathlib import Path

from flask import Blueprint, current_app, request

from webapp.api.auth import rate_limit_key
from webapp.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/v1")
csrf.exempt(bp)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key,
              error_message="Too many requests with this API key; slow down and retry after the delay.")(bp)

MAX_BODY_BYTES = 64 * 1024
OPENAPI_DOCUMENT = (Path(__file__).with_name("openapi.json")).read_bytes()


@bp.before_request
def limit_body() -> None:
    request.max_content_length = MAX_BODY_BYTES


from webapp.api import payments, payouts, refunds, sellers, webhooks  # noqa: E402, F401  (the routes)
