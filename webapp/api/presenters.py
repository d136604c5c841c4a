"""JSON shapes of API objects (documented in openapi.json)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from sqlalchemy import Row

from webapp.domain.money import decimal_string
from webapp.domain.refunds import ACTIVE
from webapp.models import PaymentEvent, Refund
from webapp.services import crypto, refunds
from webapp.services.payment_reads import PaymentRow
from webapp.services.payment_writes import NEW, NewPayment


def checkout_url(event: PaymentEvent | PaymentRow) -> str:
    return checkout_url_of(event.id)


def checkout_url_of(payment_id: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/checkout/{payment_id}"


def refund(record: Refund | Row, checkout_id: str | None = None, payment_order_id: str | None = None) -> dict:
    currency = record.currency
    return {
        "id": record.id,
        "object": "refund",
        "payment": record.payment_event_id,
        "checkout_id": checkout_id or record.payment_event.checkout_id,
        "payment_order_id": payment_order_id or record.order.payment_order_id,
        "amount": decimal_string(record.amount, currency),
        "currency": currency,
        "status": record.status,
        "reason": record.reason,
        "seller_share": decimal_string(record.seller_share, currency),
        "fee_share": decimal_string(record.fee_share, currency),
        "failure_reason": record.failure_reason,
        "created": int(record.created_at.timestamp()),
    }


def payment(event: PaymentEvent | PaymentRow, refunds_of_payment: Sequence[Refund | Row] | None = None) -> dict:
    """A payment; pass `refunds_of_payment` when they were loaded already (a page of payments: plain rows from
    webapp.services.payment_reads). A payment this request created is answered by `new_payment()`."""
    found = refunds_of_payment if refunds_of_payment is not None else refunds.for_payment(event.id)
    order_ids = {order.id: order.payment_order_id for order in event.orders}
    refunded = {order.id: sum(r.amount for r in found if r.payment_order_id == order.id and r.status in ACTIVE)
                for order in event.orders}
    return {
        "id": event.id,
        "object": "payment",
        "checkout_id": event.checkout_id,
        "status": event.status,
        "amount_total": decimal_string(event.amount_total, event.currency),
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
                "amount": decimal_string(order.amount, order.currency),
                "currency": order.currency,
                "description": order.description,
                "status": order.status,
                "ledger_updated": order.ledger_updated,
                "wallet_updated": order.wallet_updated,
                "amount_refunded": decimal_string(refunded[order.id], order.currency),
            }
            for order in event.orders
        ],
        "refunds": [refund(r, event.checkout_id, order_ids.get(r.payment_order_id)) for r in found],
    }


def new_payment(new: NewPayment) -> dict:
    """A payment this request created, from what the request wrote (the same shape as `payment()`; nothing is
    read back or decrypted, and a new payment has no refunds)."""
    command = new.command
    total = command.total
    orders = [
        {
            "payment_order_id": order.payment_order_id,
            "seller_account": seller_id,
            "amount": order.amount.decimal_string,
            "currency": order.amount.currency,
            "description": order.description,
            "status": NEW,
            "ledger_updated": False,
            "wallet_updated": False,
            "amount_refunded": decimal_string(0, order.amount.currency),
        }
        for order, seller_id in zip(command.orders, new.seller_ids, strict=True)
    ]
    return {
        "id": new.id,
        "object": "payment",
        "checkout_id": command.checkout_id,
        "status": NEW,
        "amount_total": total.decimal_string,
        "currency": total.currency,
        "checkout_url": checkout_url_of(new.id),
        "buyer_info": {"email": command.buyer_email, "name": command.buyer_name},
        "success_url": command.success_url,
        "cancel_url": command.cancel_url,
        "failure_code": None,
        "created": int(new.created_at.timestamp()),
        "payment_orders": orders,
        "refunds": [],
    }
