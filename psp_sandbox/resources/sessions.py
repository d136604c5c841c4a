"""Checkout Sessions in `payment` mode: `open → complete | expired`, `payment_status` `unpaid → paid`."""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, missing, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import events
from psp_sandbox.store import Row

# Wallets are card payments; bank transfers are Stripe's `customer_balance` method.
PAYMENT_METHOD_TYPES = ("card", "customer_balance")
MIN_LIFETIME, MAX_LIFETIME = 30 * 60, 24 * 3600


def create(sb: Sandbox, params: dict, page_base_url: str) -> Row:
    mode = p.choice(params, "mode", ["payment"], default="payment")
    now = sb.clock.now()
    items = _line_items(params, now)
    expires_at = p.integer(params, "expires_at") or now + sb.settings.session_lifetime
    if not now + MIN_LIFETIME <= expires_at <= now + MAX_LIFETIME:
        raise invalid("The `expires_at` timestamp must be between 30 minutes and 24 hours from now.", "expires_at")
    methods = p.string_list(params, "payment_method_types") or list(PAYMENT_METHOD_TYPES)
    for method in methods:
        if method not in PAYMENT_METHOD_TYPES:
            raise invalid(f"Invalid payment_method_types: the sandbox supports {', '.join(PAYMENT_METHOD_TYPES)}",
                          "payment_method_types")
    intent_data = p.nested(params, "payment_intent_data")
    session_id = new_id("cs_test", 58)
    total = sum(item["amount_total"] for item in items)
    session = {
        "id": session_id, "object": "checkout.session", "after_expiration": None,
        "allow_promotion_codes": None, "amount_subtotal": total, "amount_total": total,
        "automatic_tax": {"enabled": False, "status": None}, "billing_address_collection": None,
        "cancel_url": p.string(params, "cancel_url"), "client_reference_id": p.string(params, "client_reference_id"),
        "consent": None, "consent_collection": None, "created": now, "currency": items[0]["currency"],
        "currency_conversion": None, "custom_fields": [],
        "custom_text": {"shipping_address": None, "submit": None}, "customer": None,
        "customer_creation": "if_required", "customer_details": None,
        "customer_email": p.string(params, "customer_email"), "expires_at": expires_at, "invoice": None,
        "invoice_creation": None, "livemode": False, "locale": p.string(params, "locale"),
        "metadata": {k: v for k, v in p.metadata(params).items() if v}, "mode": mode, "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required", "payment_method_options": {},
        "payment_method_types": methods, "payment_status": "unpaid", "phone_number_collection": {"enabled": False},
        "recovered_from": None, "setup_intent": None, "shipping_address_collection": None,
        "shipping_cost": None, "shipping_details": None, "shipping_options": [], "status": "open",
        "submit_type": None, "subscription": None, "success_url": p.string(params, "success_url", required=True),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted", "url": f"{page_base_url.rstrip('/')}/pay/{session_id}",
    }
    branding = p.nested(params, "branding_settings")
    private = {
        "line_items": items,
        # Stripe's `branding_settings[display_name]`: the business name at the top of the hosted page.
        "display_name": p.string(branding, "display_name"),
        "intent": {
            "transfer_group": p.string(intent_data, "transfer_group"),
            "metadata": p.metadata(intent_data, "metadata"),
            "description": p.string(intent_data, "description"),
        },
    }
    row = sb.store.insert(session, PLATFORM_ACCOUNT, private)
    sb.store.add_timer(expires_at, "session_expires", session_id)
    return row


def _line_items(params: dict, now: int) -> list[dict]:
    raw = params.get("line_items")
    if not raw:
        raise missing("line_items")
    if not isinstance(raw, list):
        raise invalid("Invalid array: line_items", "line_items")
    items = [_line_item(entry, index, now) for index, entry in enumerate(raw)]
    if len({item["currency"] for item in items}) > 1:
        raise invalid("All line items must use the same currency.", "line_items")
    return items


def _line_item(entry: dict, index: int, now: int) -> dict:
    name = f"line_items[{index}]"
    if not isinstance(entry, dict):
        raise invalid(f"Invalid hash: {name}", name)
    price_data = p.nested(entry, "price_data")
    if not price_data:
        raise missing(f"{name}[price_data]")
    currency = p.currency(price_data, "currency")
    unit_amount = p.integer(price_data, "unit_amount", required=True, minimum=0) or 0
    # Products and prices are not API objects in the sandbox: a line item names its product inline.
    title = p.string(p.nested(price_data, "product_data"), "name", required=True)
    quantity = p.integer(entry, "quantity", required=True, minimum=1) or 1
    price = {
        "id": new_id("price"), "object": "price", "active": False, "billing_scheme": "per_unit", "created": now,
        "currency": currency, "custom_unit_amount": None, "livemode": False, "lookup_key": None,
        "metadata": {}, "nickname": None, "product": new_id("prod", 14), "recurring": None,
        "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None, "type": "one_time",
        "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
    }
    amount = unit_amount * quantity
    return {
        "id": new_id("li"), "object": "item", "amount_discount": 0, "amount_subtotal": amount, "amount_tax": 0,
        "amount_total": amount, "currency": currency, "description": title, "price": price, "quantity": quantity,
    }


def get(sb: Sandbox, session_id: str) -> Row:
    row = sb.store.get(session_id, PLATFORM_ACCOUNT, "checkout.session")
    if row is None:
        raise no_such("checkout.session", session_id)
    return row


def expire(sb: Sandbox, session_id: str) -> Row:
    row = get(sb, session_id)
    if row["status"] != "open":
        raise invalid(f'Only Checkout Sessions with a status in ["open"] can be expired. This session has status '
                      f'"{row["status"]}".', code="checkout_session_not_open")
    _close(sb, row, "expired")
    _cancel_intent(sb, row)
    events.emit(sb, "checkout.session.expired", row)
    return row


def expire_if_due(sb: Sandbox, session_id: str) -> None:
    row = get(sb, session_id)
    if row["status"] == "open":
        expire(sb, session_id)


def complete(sb: Sandbox, row: Row, payment_status: str, email: str | None, name: str | None) -> None:
    row["customer_details"] = {
        "address": None, "email": email, "name": name, "phone": None, "tax_exempt": "none", "tax_ids": [],
    }
    row["payment_status"] = payment_status
    _close(sb, row, "complete")
    events.emit(sb, "checkout.session.completed", row)


def _close(sb: Sandbox, row: Row, status: str) -> None:
    row["status"] = status
    row["url"] = None
    sb.store.save(row)


def _cancel_intent(sb: Sandbox, row: Row) -> None:
    """An expired session cancels its unfinished PaymentIntent, so it can no longer be paid."""
    intent = sb.store.get(row["payment_intent"]) if row["payment_intent"] else None
    if intent is None or intent["status"] in ("succeeded", "canceled", "processing"):
        return
    intent.update(status="canceled", canceled_at=sb.clock.now(), cancellation_reason="abandoned", next_action=None)
    sb.store.save(intent)
    events.emit(sb, "payment_intent.canceled", intent)
