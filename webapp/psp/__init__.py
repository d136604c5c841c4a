"""The PSP port: what the gateway needs from a payment service provider, independent of Stripe's SDK.

`get_psp()` returns the process's adapter (Stripe's SDK pointed at STRIPE_API_BASE: the sandbox by
default, real Stripe with real keys). Tests may pass any object with the same methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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


@dataclass(frozen=True)
class LineItem:
    name: str
    amount: int  # minor units
    currency: str


@dataclass(frozen=True)
class NewCheckoutSession:
    """What the executor asks the PSP to create: one hosted payment page for a whole checkout."""

    idempotency_key: str
    line_items: tuple[LineItem, ...]
    success_url: str
    cancel_url: str
    client_reference_id: str
    customer_email: str
    transfer_group: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str | None            # open | complete | expired
    payment_status: str | None    # paid | unpaid | no_payment_required
    payment_intent_id: str | None
    payment_intent_status: str | None
    client_reference_id: str | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class ChargeFunds:
    """The charge that paid a PaymentIntent, with its balance transaction: what the PSP kept as its fee and
    when the rest becomes available (`available_on`, PSP time in Unix seconds)."""

    charge_id: str
    payment_intent_id: str
    amount: int
    currency: str
    balance_transaction_id: str | None
    fee: int
    net: int
    available_on: int
    status: str  # of the balance transaction: pending | available


@dataclass(frozen=True)
class NewRefund:
    idempotency_key: str
    payment_intent_id: str
    amount: int
    reason: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PspRefund:
    id: str
    status: str | None  # pending | requires_action | succeeded | failed | canceled
    amount: int
    currency: str
    payment_intent_id: str | None
    failure_reason: str | None
    metadata: dict[str, str]


class Psp(Protocol):
    def create_checkout_session(self, request: NewCheckoutSession) -> CheckoutSession: ...

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession: ...

    def expire_checkout_session(self, session_id: str) -> CheckoutSession: ...

    def retrieve_charge_funds(self, payment_intent_id: str) -> ChargeFunds: ...

    def create_refund(self, request: NewRefund) -> PspRefund: ...

    def list_refunds(self, payment_intent_id: str) -> list[PspRefund]: ...

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict: ...


# PSP calls a batch makes at once; a batch is twice that, so a job ends long before its lease runs out.
CONCURRENCY = 8
BATCH = CONCURRENCY * 2


def call_each(items: Sequence[T], call: Callable[[T], R]) -> list[R]:
    """`call` for every item, CONCURRENCY at a time (PSP calls wait on the network, not on the CPU), in
    the items' order. `call` must not touch the database: results are applied afterwards, in transactions."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(items))) as pool:
        return list(pool.map(call, items))


def get_psp() -> Psp:
    from webapp.psp.stripe_adapter import adapter_for_app

    return adapter_for_app()
