"""Read-only queries of webhook deliveries for the API and the portal: an endpoint's deliveries (newest first) with
their attempts, the delivery log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from webapp.domain.errors import ValidationError
from webapp.domain.webhooks import DeliveryStatus
from webapp.extensions import db
from webapp.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    event_type: str
    attempts: list[WebhookAttempt]


@dataclass(frozen=True)
class DeliveryPage:
    rows: list[DeliveryRow]
    has_more: bool


def deliveries(endpoint: WebhookEndpoint, *, limit: int, starting_after: str | None = None,
               attempts_each: int = 10) -> DeliveryPage:
    """The endpoint's deliveries, newest first (keyset on created_at, id), each with its latest attempts."""
    query = (select(WebhookDelivery, WebhookEvent.type).join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
             .where(WebhookDelivery.endpoint_id == endpoint.id))
    if starting_after is not None:
        cursor = db.session.get(WebhookDelivery, starting_after)
        if cursor is None or cursor.endpoint_id != endpoint.id:
            raise ValidationError(f"No such webhook delivery: {starting_after!r}.", param="starting_after",
                                  code="resource_missing")
        query = query.where(or_(WebhookDelivery.created_at < cursor.created_at,
                                and_(WebhookDelivery.created_at == cursor.created_at,
                                     WebhookDelivery.id < cursor.id)))
    found = db.session.execute(query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                               .limit(limit + 1)).all()
    page = found[:limit]
    ranked = (select(WebhookAttempt, func.row_number().over(partition_by=WebhookAttempt.delivery_id,
                                                           order_by=WebhookAttempt.id.desc()).label("rank"))
              .where(WebhookAttempt.delivery_id.in_([row[0].id for row in page])).subquery())
    logged = db.session.execute(select(WebhookAttempt).join(ranked, ranked.c.id == WebhookAttempt.id)
                                .where(ranked.c.rank <= attempts_each).order_by(WebhookAttempt.id.desc())).scalars()
    by_delivery: dict[str, list[WebhookAttempt]] = defaultdict(list)
    for attempt in logged:
        by_delivery[attempt.delivery_id].append(attempt)
    return DeliveryPage([DeliveryRow(row[0], row[1], by_delivery[row[0].id]) for row in page], len(found) > limit)


def failed_count(endpoint: WebhookEndpoint) -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == DeliveryStatus.FAILED.value)) or 0
