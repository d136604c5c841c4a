"""`/v1/webhook_endpoints`, `/v1/events` and Resend: where a merchant's server is told what happened, and what it
was told. Registered on the API blueprint (auth, rate limits, body limit, Stripe-shaped errors)."""

from __future__ import annotations

from flask import g, jsonify

from webapp.api import bp, params
from webapp.api import webhook_presenters as present
from webapp.api.auth import api_key_required
from webapp.extensions import db
from webapp.services import webhook_delivery, webhook_endpoints, webhook_events, webhook_reads
from webapp.services.webhook_endpoints import NewEndpoint
from webapp.services.webhook_reads import DeliveryRow

PAGE_PARAMS = {"limit", "starting_after"}


@bp.post("/webhook_endpoints")
@api_key_required
def create_webhook_endpoint():
    document = params.json_body()
    command = NewEndpoint.from_json(document)
    merchant_id = g.merchant_id

    def create() -> tuple[int, dict]:
        made = webhook_endpoints.create(merchant_id, command, commit=False)
        return 201, present.endpoint(made.endpoint, made.secret)

    return params.idempotent("POST /v1/webhook_endpoints", document, create)


@bp.get("/webhook_endpoints")
@api_key_required
def list_webhook_endpoints():
    params.query(set())
    return params.listing("/v1/webhook_endpoints", False,
                          [present.endpoint(e) for e in webhook_endpoints.list_for(g.merchant_id)])


def _endpoint(endpoint_id: str):
    return webhook_endpoints.get(g.merchant_id, params.object_id(endpoint_id, "webhook endpoint", param="id"))


@bp.get("/webhook_endpoints/<endpoint_id>")
@api_key_required
def get_webhook_endpoint(endpoint_id: str):
    return jsonify(present.endpoint(_endpoint(endpoint_id)))


@bp.delete("/webhook_endpoints/<endpoint_id>")
@api_key_required
def delete_webhook_endpoint(endpoint_id: str):
    removed = webhook_endpoints.remove(g.merchant_id, params.object_id(endpoint_id, "webhook endpoint", param="id"))
    return jsonify({"id": removed, "object": "webhook_endpoint", "deleted": True})


@bp.get("/webhook_endpoints/<endpoint_id>/deliveries")
@api_key_required
def list_webhook_deliveries(endpoint_id: str):
    args = params.query(PAGE_PARAMS)
    endpoint = _endpoint(endpoint_id)
    page = webhook_reads.deliveries(endpoint, limit=params.limit_of(args),
                                    starting_after=params.cursor_of(args, "webhook delivery"))
    return params.listing(f"/v1/webhook_endpoints/{endpoint.id}/deliveries", page.has_more,
                          [present.delivery(row) for row in page.rows])


@bp.post("/webhook_deliveries/<delivery_id>/resend")
@api_key_required
def resend_webhook_delivery(delivery_id: str):
    found = webhook_delivery.resend(g.merchant_id, params.object_id(delivery_id, "webhook delivery", param="id"))
    db.session.refresh(found)
    event = webhook_events.get(g.merchant_id, found.event_id)
    return jsonify(present.delivery(DeliveryRow(found, event.type, [])))


@bp.get("/events")
@api_key_required
def list_events():
    args = params.query(PAGE_PARAMS | {"type"})
    page = webhook_events.page(g.merchant_id, limit=params.limit_of(args),
                               starting_after=params.cursor_of(args, "event"), event_type=args.get("type"))
    return params.listing("/v1/events", page.has_more, [webhook_events.as_json(e) for e in page.events])


@bp.get("/events/<event_id>")
@api_key_required
def get_event(event_id: str):
    found = webhook_events.get(g.merchant_id, params.object_id(event_id, "event", param="id"))
    return jsonify(webhook_events.as_json(found))

