"""The PSP port: what the gateway needs from a payment service provider, independent of Stripe's SDK.

`get_psp()` returns the process's adapter (Stripe's SDK pointed at STRIPE_API_BASE: the sandbox by
default, real Stripe with real keys). Tests may pass any object with the same methods. Values both ways are
the port's own types (webapp.psp.types, webapp.psp.notices): no Stripe field name leaves this package.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from webapp.psp.notices import MalformedNotice, Notice, NoticeKind
from webapp.psp.stripe_objects import read_notice, subscribed_events
from webapp.psp.types import (
    BankAccountDetails,
    BankAccountState,
    BankTransferInstructions,
    ChargeFunds,
    ChargeRefunded,
    CheckoutSession,
    ConnectedAccount,
    FundsAvailable,
    LineItem,
    NewBankAccount,
    NewCheckoutSession,
    NewConnectedAccount,
    NewPayout,
    NewRefund,
    NewReversal,
    NewTransfer,
    PaymentMethodKind,
    PaymentTry,
    PspBankAccount,
    PspPayout,
    PspPayoutStatus,
    PspRefund,
    PspRefundStatus,
    PspReversal,
    PspTransfer,
    SessionPayments,
    SessionState,
    TryResult,
)

T = TypeVar("T")
R = TypeVar("R")

__all__ = [
    "BATCH", "CONCURRENCY", "BankAccountDetails", "BankAccountState", "BankTransferInstructions", "ChargeFunds",
    "ChargeRefunded", "CheckoutSession", "ConnectedAccount", "FundsAvailable", "LineItem", "MalformedNotice",
    "NewBankAccount", "NewCheckoutSession", "NewConnectedAccount", "NewPayout", "NewRefund", "NewReversal",
    "NewTransfer", "Notice", "NoticeKind", "PaymentMethodKind", "PaymentTry", "Psp", "PspBankAccount", "PspError",
    "PspPayout", "PspPayoutStatus", "PspRefund", "PspRefundStatus", "PspRejected", "PspReversal", "PspTransfer",
    "PspUnavailable", "SessionPayments", "SessionState", "TryResult", "WebhookRejected", "call_each", "get_psp",
    "read_notice", "subscribed_events",
]


class PspError(Exception):
    """The PSP call failed. `retryable`: the same call, with the same idempotency key, may succeed later."""

    retryable = False

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class PspUnavailable(PspError):
    """Network error, timeout, rate limit or 5xx: try again with backoff."""

    retryable = True


class PspRejected(PspError):
    """The PSP refused the request itself (invalid, not found, conflicting state): retrying will not help."""


class WebhookRejected(Exception):
    """A webhook whose signature, timestamp or body does not verify."""


class Psp(Protocol):
    def create_checkout_session(self, request: NewCheckoutSession) -> CheckoutSession: ...

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession: ...

    def expire_checkout_session(self, session_id: str) -> CheckoutSession: ...

    def session_payments(self, session_id: str) -> SessionPayments: ...

    def retrieve_charge_funds(self, payment_intent_id: str) -> ChargeFunds: ...

    def create_refund(self, request: NewRefund) -> PspRefund: ...

    def list_refunds(self, payment_intent_id: str) -> list[PspRefund]: ...

    def create_connected_account(self, request: NewConnectedAccount) -> ConnectedAccount: ...

    def retrieve_connected_account(self, account_id: str) -> ConnectedAccount: ...

    def add_bank_account(self, request: NewBankAccount) -> PspBankAccount: ...

    def create_transfer(self, request: NewTransfer) -> PspTransfer: ...

    def create_reversal(self, request: NewReversal) -> PspReversal: ...

    def create_payout(self, request: NewPayout) -> PspPayout: ...

    def retrieve_payout(self, account_id: str, payout_id: str) -> PspPayout: ...

    def verify_webhook(self, payload: bytes, signature_header: str | None, parsed: Any = None) -> Notice:
        """The notice a signed webhook carries; WebhookRejected if the signature or the event is not right.
        `parsed`: the payload already parsed as JSON (the input guard did), so it is not parsed again."""
        ...


# PSP calls a batch makes at once; a batch is twice that, so a job ends long before its lease runs out.
CONCURRENCY = 8
BATCH = CONCURRENCY * 2


def call_each(items: Sequence[T], call: Callable[[T], R], *, concurrency: int = CONCURRENCY) -> list[R]:
    """`call` for every item, `concurrency` at a time (PSP calls wait on the network, not on the CPU), in
    the items' order. `call` must not touch the database: results are applied afterwards, in transactions."""
    if not items:
        return []
    # Each call runs in a copy of the caller's context, so its log lines carry what the caller bound.
    contexts = [contextvars.copy_context() for _ in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(lambda context, item: context.run(call, item), contexts, items))


def get_psp() -> Psp:
    from webapp.psp.stripe_adapter import adapter_for_app

    return adapter_for_app()
