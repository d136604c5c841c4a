"""`/v1/payments`: create a checkout, read it, list them."""

from __future__ import annotations

from flask import current_app, g, jsonify, request

from webapp.api import OPENAPI_DOCUMENT, bp, params, presenters
from webapp.api.auth import api_key_required
from webapp.api.params import json_body
from webapp.domain.payment_requests import CreatePayment
from webapp.ops import log_context
from webapp.services import payment_reads, payments


@bp.post("/payments")
@api_key_required
def create_payment():
    command = CreatePayment.from_json(json_body(), max_amount_minor=current_app.config["MAX_PAYMENT_AMOUNT_MINOR"])
    result = payments.create(g.merchant_id, command, request.headers.get("Idempotency-Key"),
                             presenters.new_payment, presenters.payment)
    log_context.bind(payment_id=result.body.get("id"), checkout_id=command.checkout_id)
    response = jsonify(result.body)
    response.status_code = result.status
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/payments/<checkout_id>")
@api_key_required
def get_payment(checkout_id: str):
    return jsonify(presenters.payment(payments.get(g.merchant_id, checkout_id)))


@bp.get("/payments")
@api_key_required
def list_payments():
    args = params.query({"limit", "starting_after"})
    page = payment_reads.page(g.merchant_id, params.limit_of(args), params.cursor_of(args, "payment"))
    return jsonify({"object": "list", "url": "/v1/payments", "has_more": page.has_more,
                    "data": [presenters.payment(p, page.refunds.get(p.id, [])) for p in page.items]})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API (the tests validate every response against it)."""
    return current_app.response_class(OPENAPI_DOCUMENT, mimetype="application/json")
