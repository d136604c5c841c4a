"""JSON shapes of API objects (documented in openapi.json)."""

from __future__ import annotations

from flask import current_app

from webapp.domain.money import Money
from webapp.models import PaymentEvent
from webapp.services import crypto


def checkout_url(event: PaymentEvent) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/checkout/{event.id}"


def payment(event: PaymentEvent) -> dict:
    return {
        "id": event.id,
        "object": "payment",
        "checkout_id": event.checkout_id,
        "status": event.status,
        "amount_total": Money(event.amount_total, event.currency).decimal_string,
        "currency": event.currency,
        "checkout_url": checkout_url(event),
        "buyer_info": {"email": crypto.decrypt(event.buyer_email_enc),
                       "name": crypto.decrypt_optional(event.buyer_name_enc)},
        "success_url": event.success_url,
        "cancel_url": event.cancel_url,
        "failure_code": event.failure_code,
        "created": int(event.created_at.timestamp()),
        "payment_orders": [
            {
                "payment_order_id": order.payment_order_id,
                "seller_account": order.seller_account_id,
                "amount": Money(order.amount, order.currency).decimal_string,
                "currency": order.currency,
                "description": order.description,
                "status": order.status,
                "ledger_updated": order.ledger_updated,
                "wallet_updated": order.wallet_updated,
            }
            for order in event.orders
        ],
    }
