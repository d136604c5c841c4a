"""The Stripe adapter: the only module that imports `stripe`.

It talks to STRIPE_API_BASE (the offline sandbox by default, https://api.stripe.com with real keys), maps the
SDK's exceptions onto the port's retryable / rejected errors, and reads answers with webapp.psp.stripe_objects.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import stripe
from flask import current_app

from webapp.ops import metrics
from webapp.psp import (
    ChargeFunds,
    CheckoutSession,
    ConnectedAccount,
    MalformedNotice,
    NewBankAccount,
    NewCheckoutSession,
    NewConnectedAccount,
    NewPayout,
    NewRefund,
    NewReversal,
    NewTransfer,
    Notice,
    PspBankAccount,
    PspError,
    PspPayout,
    PspRefund,
    PspRejected,
    PspReversal,
    PspTransfer,
    PspUnavailable,
    SessionPayments,
    WebhookRejected,
    stripe_objects,
    stripe_payments,
)

_RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError)
T = TypeVar("T")
log = logging.getLogger(__name__)


def _observe(operation: str, outcome: str, started: float, psp_request_id: str | None, http_status: int | None) -> None:
    elapsed = time.perf_counter() - started
    if metrics.enabled():
        metrics.PSP_REQUESTS.labels(operation, outcome).inc()
        metrics.PSP_DURATION.labels(operation).observe(elapsed)
    log.log(logging.INFO if outcome == "ok" else logging.WARNING, "psp call", extra={
        "operation": operation, "outcome": outcome, "psp_request_id": psp_request_id, "http_status": http_status,
        "duration_ms": round(elapsed * 1000, 1)})


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


def _bank_params(request_bank) -> dict[str, Any]:
    return {"object": "bank_account", "account_number": request_bank.iban, "country": request_bank.country,
            "currency": request_bank.currency.lower(), "account_holder_name": request_bank.holder_name,
            "account_holder_type": "individual"}


class StripePsp:
    """Implements webapp.psp.Psp with the official SDK (one client per process; it is thread-safe)."""

    def __init__(self, api_key: str, api_base: str, webhook_secrets: tuple[str, ...], max_network_retries: int,
                 timeout: float = 20) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._webhook_secrets = webhook_secrets

    @staticmethod
    def _call(operation: str, request: Callable[[], T]) -> T:
        """Make one call (the SDK's retries included), counting and logging it with the PSP's own request id.
        `operation` names the port's method, so metrics and logs read the same whichever PSP is behind it."""
        started = time.perf_counter()
        try:
            answer = request()
        except stripe.StripeError as exc:
            error = _translate(exc)
            _observe(operation, "unavailable" if error.retryable else "rejected", started, exc.request_id,
                     exc.http_status)
            raise error from exc
        response = getattr(answer, "last_response", None)
        _observe(operation, "ok", started, getattr(response, "request_id", None), getattr(response, "code", None))
        return answer

    @staticmethod
    def _read(read: Callable[[dict], T], found: stripe.StripeObject) -> T:
        try:
            return read(found.to_dict())
        except (KeyError, TypeError, ValueError) as exc:
            raise PspRejected(f"unexpected answer from the PSP: {exc}") from exc

    # Pay-in.

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
        if request.display_name:
            params["branding_settings"] = {"display_name": request.display_name[:100]}
        created = self._call("create_checkout_session", lambda: self._client.v1.checkout.sessions.create(
            params, {"idempotency_key": request.idempotency_key}))  # type: ignore[arg-type]
        return self._read(stripe_objects.session, created)

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        found = self._call("retrieve_checkout_session", lambda: self._client.v1.checkout.sessions.retrieve(
            session_id, {"expand": ["payment_intent"]}))
        return self._read(stripe_objects.session, found)

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        expired = self._call("expire_checkout_session", lambda: self._client.v1.checkout.sessions.expire(session_id))
        return self._read(stripe_objects.session, expired)

    def session_payments(self, session_id: str) -> SessionPayments:
        """The session's PaymentIntent (with its next action) and every charge made for it, in two calls."""
        found = self._call("session_payments", lambda: self._client.v1.checkout.sessions.retrieve(
            session_id, {"expand": ["payment_intent"]})).to_dict()
        intent = found.get("payment_intent")
        if not isinstance(intent, dict):
            return SessionPayments(session_id, (), None)
        charges = self._call("session_payments", lambda: self._client.v1.charges.list(
            {"payment_intent": intent["id"], "limit": 100})).to_dict()
        try:
            return stripe_payments.session_payments(session_id, intent, charges.get("data") or [])
        except (KeyError, TypeError, ValueError) as exc:
            raise PspRejected(f"unexpected answer from the PSP: {exc}") from exc

    def retrieve_charge_funds(self, payment_intent_id: str) -> ChargeFunds:
        """The PaymentIntent's charge and its balance transaction (fee, net, available_on), in one call."""
        intent = self._call("retrieve_charge_funds", lambda: self._client.v1.payment_intents.retrieve(
            payment_intent_id, {"expand": ["latest_charge.balance_transaction"]}))
        return stripe_payments.charge_funds(payment_intent_id, intent.to_dict())

    def create_refund(self, request: NewRefund) -> PspRefund:
        params: dict[str, Any] = {"payment_intent": request.payment_intent_id, "amount": request.amount,
                                  "metadata": request.metadata}
        if request.reason:
            params["reason"] = request.reason
        created = self._call("create_refund", lambda: self._client.v1.refunds.create(
            params, {"idempotency_key": request.idempotency_key}))  # type: ignore[arg-type]
        return self._read(stripe_objects.refund, created)

    def list_refunds(self, payment_intent_id: str) -> list[PspRefund]:
        def listed() -> list[PspRefund]:
            page = self._client.v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100})
            return [self._read(stripe_objects.refund, found) for found in page.auto_paging_iter()]
        return self._call("list_refunds", listed)

    # Connect: sellers' accounts, transfers, reversals and payouts.

    def create_connected_account(self, request: NewConnectedAccount) -> ConnectedAccount:
        params: dict[str, Any] = {
            "type": "custom", "country": request.country, "business_type": "individual",
            "business_profile": {"name": request.display_name},
            "capabilities": {"transfers": {"requested": True}},
            "external_account": _bank_params(request.bank_account),
            "settings": {"payouts": {"schedule": {"interval": "manual"}}},
            "metadata": request.metadata,
        }
        if request.email:
            params["email"] = request.email
        created = self._call("create_connected_account", lambda: self._client.v1.accounts.create(
            params, {"idempotency_key": request.idempotency_key}))  # type: ignore[arg-type]
        return self._read(stripe_objects.account, created)

    def retrieve_connected_account(self, account_id: str) -> ConnectedAccount:
        found = self._call("retrieve_connected_account", lambda: self._client.v1.accounts.retrieve(account_id))
        return self._read(stripe_objects.account, found)

    def add_bank_account(self, request: NewBankAccount) -> PspBankAccount:
        params: dict[str, Any] = {"external_account": _bank_params(request.bank_account),
                                  "default_for_currency": True}
        created = self._call("add_bank_account", lambda: self._client.v1.accounts.external_accounts.create(
            request.account_id, params, {"idempotency_key": request.idempotency_key}))  # type: ignore[arg-type]
        return self._read(stripe_objects.bank_account, created)

    def create_transfer(self, request: NewTransfer) -> PspTransfer:
        params: dict[str, Any] = {"amount": request.amount, "currency": request.currency.lower(),
                                  "destination": request.destination, "transfer_group": request.transfer_group,
                                  "metadata": request.metadata}
        created = self._call("create_transfer", lambda: self._client.v1.transfers.create(
            params, {"idempotency_key": request.idempotency_key}))  # type: ignore[arg-type]
        return self._read(stripe_objects.transfer, created)

    def create_reversal(self, request: NewReversal) -> PspReversal:
        params: dict[str, Any] = {"amount": request.amount, "metadata": request.metadata}
        created = self._call("create_reversal", lambda: self._client.v1.transfers.reversals.create(
            request.transfer_id, params, {"idempotency_key": request.idempotency_key}))  # type: ignore[arg-type]
        return self._read(lambda obj: PspReversal(str(obj["id"]), request.transfer_id, int(obj["amount"]),
                                                  str(obj["currency"]).upper()), created)

    def create_payout(self, request: NewPayout) -> PspPayout:
        params: dict[str, Any] = {"amount": request.amount, "currency": request.currency.lower(),
                                  "description": request.description, "metadata": request.metadata}
        created = self._call("create_payout", lambda: self._client.v1.payouts.create(
            params, {"idempotency_key": request.idempotency_key,  # type: ignore[arg-type]
                     "stripe_account": request.account_id}))
        return self._read(lambda obj: stripe_objects.payout(obj, request.account_id), created)

    def retrieve_payout(self, account_id: str, payout_id: str) -> PspPayout:
        found = self._call("retrieve_payout", lambda: self._client.v1.payouts.retrieve(
            payout_id, options={"stripe_account": account_id}))
        return self._read(lambda obj: stripe_objects.payout(obj, account_id), found)

    # Webhooks.

    def verify_webhook(self, payload: bytes, signature_header: str | None, parsed: Any = None) -> Notice:
        """Check the Stripe-Signature header (HMAC-SHA256, 300 s tolerance) against the platform endpoint's
        secret or the Connect endpoint's, and read the event."""
        if not signature_header:
            raise WebhookRejected("missing Stripe-Signature header")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebhookRejected(str(exc)) from exc
        failure: Exception | None = None
        for secret in self._webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(text, signature_header, secret, stripe.Webhook.DEFAULT_TOLERANCE)
                break
            except stripe.SignatureVerificationError as exc:
                failure = exc
        else:
            raise WebhookRejected(str(failure or "no webhook secret configured"))
        _not_from_the_future(signature_header, stripe.Webhook.DEFAULT_TOLERANCE)
        try:
            return stripe_objects.read_notice(text) if parsed is None else stripe_objects.notice(parsed)
        except MalformedNotice as exc:
            raise WebhookRejected(str(exc)) from exc


def _not_from_the_future(signature_header: str, tolerance: int) -> None:
    """The SDK refuses signatures older than the tolerance only; one dated further ahead than that is refused
    too, so a signed request captured with a forged future timestamp cannot be replayed for days."""
    stamps = [item.strip()[2:] for item in signature_header.split(",") if item.strip().startswith("t=")]
    if not stamps or not all(stamp.isascii() and stamp.isdigit() and len(stamp) <= 12 for stamp in stamps):
        raise WebhookRejected("the signature's timestamp is not a Unix time")
    if max(int(stamp) for stamp in stamps) > time.time() + tolerance:
        raise WebhookRejected(f"Timestamp outside the tolerance zone ({stamps[0]})")


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
                secrets = tuple(s for s in (config["STRIPE_WEBHOOK_SECRET"],
                                            config.get("STRIPE_CONNECT_WEBHOOK_SECRET")) if s)
                adapter = StripePsp(config["STRIPE_API_KEY"], config["STRIPE_API_BASE"], secrets,
                                    config["STRIPE_MAX_NETWORK_RETRIES"], config["STRIPE_TIMEOUT_SECONDS"])
                extensions["psp"] = adapter
    return adapter
