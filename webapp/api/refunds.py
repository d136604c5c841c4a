"""`POST /v1/payments/{checkout_id}/refunds`: refund (part of) a paid payment order.

Registered on the API blueprint of webapp/api/payments.py, so it shares its API-key auth, rate limits,
body limit and Stripe-shaped errors.
"""

from __future__ import annotations

from flask import g, jsonify, request

from webapp.api import bp, presenters
from webapp.api.auth import api_key_required
from webapp.api.params import json_body
from webapp.domain.refunds import RefundRequest
from webapp.services import refunds


@bp.post("/payments/<checkout_id>/refunds")
@api_key_required
def create_refund(checkout_id: str):
    command = RefundRequest.from_json(json_body())
    result = refunds.request(g.merchant, checkout_id, command, request.headers.get("Idempotency-Key"),
                             presenters.refund, source="api")
    response = jsonify(result.body)
    response.status_code = result.status
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
