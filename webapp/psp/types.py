"""The PSP port's values, in the gateway's own words: what the services ask the PSP for and what they get back.

The Stripe adapter translates both ways; no service reads or writes a Stripe field name. Amounts are integers
of minor units, currencies upper case, times Unix seconds of the PSP's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from webapp.domain.payments import Outcome


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
    display_name: str | None = None  # the business name the buyer sees on the page: the merchant's


class SessionState(StrEnum):
    """A hosted payment page's life: open, then complete (the buyer finished) or expired. Only moves forward."""

    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


@dataclass(frozen=True)
class CheckoutSession:
    """A hosted payment page as the PSP reports it. `outcome` is what it means for the checkout's attempt
    (None: nothing to act on yet); `paid` is True once the PSP has the money."""

    id: str
    url: str | None
    state: SessionState | None
    paid: bool
    payment_intent_id: str | None
    outcome: Outcome | None
    client_reference_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class PaymentMethodKind(StrEnum):
    CARD = "card"
    WALLET = "wallet"
    BANK_TRANSFER = "bank_transfer"
    OTHER = "other"


class TryResult(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"
    DECLINED = "declined"


@dataclass(frozen=True)
class PaymentTry:
    """One try to pay a session (a charge at the PSP), declined ones included. Only a card's brand and last
    four digits are known: the PSP never hands out the number."""

    method: PaymentMethodKind
    brand: str | None
    last4: str | None
    result: TryResult
    decline_reason: str | None
    created: int  # PSP time, Unix seconds


@dataclass(frozen=True)
class BankTransferInstructions:
    """What the buyer must transfer, and where to, to pay by bank transfer."""

    amount: int
    currency: str
    iban: str
    bic: str | None
    account_holder: str | None
    reference: str


@dataclass(frozen=True)
class SessionPayments:
    """Every try to pay one Checkout Session, oldest first, and the bank transfer instructions if the buyer
    chose a bank transfer that has not arrived yet."""

    session_id: str
    tries: tuple[PaymentTry, ...]
    bank_transfer: BankTransferInstructions | None


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
    available: bool  # the PSP already counts it as available


@dataclass(frozen=True)
class NewRefund:
    idempotency_key: str
    payment_intent_id: str
    amount: int
    reason: str | None
    metadata: dict[str, str] = field(default_factory=dict)


class PspRefundStatus(StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class PspRefund:
    id: str
    status: PspRefundStatus | None
    amount: int
    currency: str
    payment_intent_id: str | None
    failure_reason: str | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class ChargeRefunded:
    """A charge was (partly) refunded: its PaymentIntent's refunds are worth asking about."""

    payment_intent_id: str | None


@dataclass(frozen=True)
class FundsAvailable:
    """The PSP made funds available up to `through` (PSP time) on the platform's balance."""

    through: int


# Connect: sellers' accounts at the PSP, transfers to them and payouts from them.

@dataclass(frozen=True)
class PayoutSchedule:
    interval: str  # daily | weekly | monthly | manual
    delay_days: int | None = None
    weekly_anchor: str | None = None
    monthly_anchor: int | None = None


@dataclass(frozen=True)
class BankAccountDetails:
    iban: str
    holder_name: str
    country: str
    currency: str


@dataclass(frozen=True)
class NewConnectedAccount:
    idempotency_key: str
    display_name: str
    email: str | None
    country: str
    bank_account: BankAccountDetails
    metadata: dict[str, str] = field(default_factory=dict)


class BankAccountState(StrEnum):
    NEW = "new"
    VALIDATED = "validated"
    VERIFIED = "verified"
    VERIFICATION_FAILED = "verification_failed"
    ERRORED = "errored"


@dataclass(frozen=True)
class PspBankAccount:
    id: str
    account_id: str | None
    last4: str
    currency: str
    state: BankAccountState
    default: bool


@dataclass(frozen=True)
class ConnectedAccount:
    """A seller's account at the PSP: whether it can be paid out, and if not, why."""

    id: str
    payouts_enabled: bool
    requirements_due: tuple[str, ...]
    disabled_reason: str | None
    bank_accounts: tuple[PspBankAccount, ...]
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewBankAccount:
    idempotency_key: str
    account_id: str
    bank_account: BankAccountDetails


@dataclass(frozen=True)
class NewTransfer:
    idempotency_key: str
    destination: str  # connected account id
    amount: int
    currency: str
    transfer_group: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PspTransfer:
    id: str
    destination: str
    amount: int
    amount_reversed: int
    currency: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class NewReversal:
    idempotency_key: str
    transfer_id: str
    amount: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PspReversal:
    id: str
    transfer_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class NewPayout:
    idempotency_key: str
    account_id: str
    amount: int
    currency: str
    description: str
    metadata: dict[str, str] = field(default_factory=dict)


class PspPayoutStatus(StrEnum):
    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class PspPayout:
    id: str
    account_id: str | None
    amount: int
    currency: str
    status: PspPayoutStatus
    arrival_date: int | None
    failure_code: str | None
    failure_message: str | None
    failure_balance_transaction_id: str | None
    balance_transaction_id: str | None
    metadata: dict[str, str]
