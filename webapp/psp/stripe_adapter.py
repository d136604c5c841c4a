"""The Stripe adapter: the only module that imports `stripe`.

It talks to STRIPE_API_BASE (the offline sandbox by default, https://api.stripe.com with real keys) and
maps the SDK's exceptions onto the port's retryable / rejected errors.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import stripe
from flask import current_app

from webapp.psp import (
    ChargeFunds,
    CheckoutSession,
    NewCheckoutSession,
    NewRefund,
    PspError,
    PspRefund,
    PspRejected,
    PspUnavailable,
    WebhookRejected,
)

_RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError)


def _translate(exc: stripe.StripeError) -> PspError:
    status = getattr(exc, "http_status", None)
    code = getattr(exc, "code", None)
    message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, _RETRYABLE) or (status is not None and status >= 500) or (
        isinstance(exc, stripe.APIError) and status is None
    ):
        return PspUnavailable(message, code=code, http_status=status)
    if status == 409:  # a concurrent request with the same idempotency key: ask again later
        return PspUnavailable(message, code=code, http_status=status)
    return PspRejected(message, code=code, http_status=status)


def _session(found: stripe.StripeObject) -> CheckoutSession:
    obj: dict[str, Any] = found.to_dict()
    intent = obj.get("payment_intent")
    intent_id = intent if isinstance(intent, str) else (intent.get("id") if intent else None)
    intent_status = None if isinstance(intent, str) or intent is None else intent.get("status")
    return CheckoutSession(
        id=obj["id"],
        url=obj.get("url"),
        status=obj.get("status"),
        payment_status=obj.get("payment_status"),
        payment_intent_id=intent_id,
        payment_intent_status=intent_status,
        client_reference_id=obj.get("client_reference_id"),
        metadata=dict(obj.get("metadata") or {}),
    )


def _refund(found: stripe.StripeObject) -> PspRefund:
    obj: dict[str, Any] = found.to_dict()
    intent = obj.get("payment_intent")
    return PspRefund(
        id=obj["id"],
        status=obj.get("status"),
        amount=int(obj.get("amount") or 0),
        currency=str(obj.get("currency") or "").upper(),
        payment_intent_id=intent if isinstance(intent, str) else (intent.get("id") if intent else None),
        failure_reason=obj.get("failure_reason"),
        metadata=dict(obj.get("metadata") or {}),
    )


def _charge_funds(payment_intent_id: str, intent: dict[str, Any]) -> ChargeFunds:
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict) or charge.get("status") != "succeeded":
        raise PspRejected(f"PaymentIntent {payment_intent_id} has no succeeded charge")
    transaction = charge.get("balance_transaction")
    if not isinstance(transaction, dict):
        # Stripe can attach the balance transaction a moment after the charge succeeded: ask again later.
        raise PspUnavailable(f"charge {charge['id']} has no balance transaction yet")
    return ChargeFunds(
        charge_id=charge["id"],
        payment_intent_id=payment_intent_id,
        amount=int(charge["amount"]),
        currency=str(charge["currency"]).upper(),
        balance_transaction_id=transaction.get("id"),
        fee=int(transaction.get("fee") or 0),
        net=int(transaction["net"]),
        available_on=int(transaction["available_on"]),
        status=str(transaction.get("status")),
    )


class StripePsp:
    """Implements webapp.psp.Psp with the official SDK (one client per process; it is thread-safe)."""

    def __init__(self, api_key: str, api_base: str, webhook_secret: str, max_network_retries: int,
                 timeout: float = 20) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._webhook_secret = webhook_secret

    def create_checkout_session(self, request: NewCheckoutSession) -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {"quantity": 1, "price_data": {"currency": item.currency.lower(), "unit_amount": item.amount,
                                               "product_data": {"name": item.name}}}
                for item in request.line_items
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.client_reference_id,
            "customer_email": request.customer_email,
            "metadata": request.metadata,
            "payment_intent_data": {"transfer_group": request.transfer_group, "metadata": request.metadata},
        }
        try:
            created = self._client.v1.checkout.sessions.create(
                params, {"idempotency_key": request.idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _session(created)

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        try:
            found = self._client.v1.checkout.sessions.retrieve(session_id, {"expand": ["payment_intent"]})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _session(found)

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        try:
            expired = self._client.v1.checkout.sessions.expire(session_id)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _session(expired)

    def retrieve_charge_funds(self, payment_intent_id: str) -> ChargeFunds:
        """The PaymentIntent's charge and its balance transaction (fee, net, available_on), in one call."""
        try:
            intent = self._client.v1.payment_intents.retrieve(
                payment_intent_id, {"expand": ["latest_charge.balance_transaction"]})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _charge_funds(payment_intent_id, intent.to_dict())

    def create_refund(self, request: NewRefund) -> PspRefund:
        params: dict[str, Any] = {"payment_intent": request.payment_intent_id, "amount": request.amount,
                                  "metadata": request.metadata}
        if request.reason:
            params["reason"] = request.reason
        try:
            created = self._client.v1.refunds.create(
                params, {"idempotency_key": request.idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _refund(created)

    def list_refunds(self, payment_intent_id: str) -> list[PspRefund]:
        try:
            page = self._client.v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100})
            return [_refund(found) for found in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict:
        """Check the Stripe-Signature header (HMAC-SHA256, 300 s tolerance) and return the event."""
        if not signature_header:
            raise WebhookRejected("missing Stripe-Signature header")
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature_header, self._webhook_secret,
                                                  stripe.Webhook.DEFAULT_TOLERANCE)
            event = json.loads(text)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            raise WebhookRejected(str(exc)) from exc
        if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id"):
            raise WebhookRejected("body is not a PSP event")
        return event


_lock = threading.Lock()


def adapter_for_app() -> StripePsp:
    """The adapter for the current app's settings, built once per app."""
    extensions = current_app.extensions
    adapter = extensions.get("psp")
    if adapter is None:
        with _lock:
            adapter = extensions.get("psp")
            if adapter is None:
                config = current_app.config
                adapter = StripePsp(config["STRIPE_API_KEY"], config["STRIPE_API_BASE"],
                                    config["STRIPE_WEBHOOK_SECRET"], config["STRIPE_MAX_NETWORK_RETRIES"],
                                    config["STRIPE_TIMEOUT_SECONDS"])
                extensions["psp"] = adapter
    return adapter
