"""What the PSP tells the gateway unasked (webhooks), as typed notices.

The adapter reads the PSP's event JSON into a `Notice`: which kind of news it is, which connected account it
concerns (None: the platform's own account), and its subject as one of the port's values. The inbox stores the
PSP's payload as received and reads it again with `read()` when it applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from webapp.psp.types import (
    ChargeRefunded,
    CheckoutSession,
    ConnectedAccount,
    FundsAvailable,
    PspBankAccount,
    PspPayout,
    PspRefund,
)


class NoticeKind(StrEnum):
    CHECKOUT_SESSION = "checkout_session"
    REFUND = "refund"
    CHARGE_REFUNDED = "charge_refunded"
    FUNDS_AVAILABLE = "funds_available"
    PAYOUT = "payout"
    ACCOUNT = "account"
    BANK_ACCOUNT = "bank_account"
    OTHER = "other"  # stored for the record; nothing to apply


Subject = (CheckoutSession | PspRefund | ChargeRefunded | FundsAvailable | PspPayout | ConnectedAccount
           | PspBankAccount | None)


@dataclass(frozen=True)
class Notice:
    id: str
    type: str            # the PSP's own name for the event, kept for people reading the inbox
    kind: NoticeKind
    created: int         # PSP time, Unix seconds
    account: str | None  # the connected account it concerns; None for the platform's own account
    object_id: str | None
    subject: Subject


class MalformedNotice(ValueError):
    """A (correctly signed) event whose body does not have the shape its type promises."""
