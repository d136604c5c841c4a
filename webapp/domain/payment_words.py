"""How a checkout's status and history read to a merchant: the status names that tell the truth, and the
timeline in words instead of `NOT_STARTED → EXECUTING`.

The stored statuses (webapp.domain.payments.OrderStatus) describe the machinery; a merchant asks a simpler
question, "what happened to this sale?". The rule, by name:

- Open: the buyer has the checkout (not paid yet, or on the payment provider's page) and it is recent.
- Abandoned: still open, but nothing happened for ABANDONED_AFTER: the buyer walked away.
- Pending: the buyer finished, the money is on its way (bank transfer, delayed methods).
- Succeeded: the money was taken.
- Expired: the payment page expired before the buyer paid.
- Failed: the payment was declined or could not be made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from webapp.domain.payments import OrderStatus


class MerchantStatus(StrEnum):
    OPEN = "open"
    ABANDONED = "abandoned"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    EXPIRED = "expired"
    FAILED = "failed"


LABELS = {MerchantStatus.OPEN: "Open", MerchantStatus.ABANDONED: "Abandoned", MerchantStatus.PENDING: "Pending",
          MerchantStatus.SUCCEEDED: "Succeeded", MerchantStatus.EXPIRED: "Expired", MerchantStatus.FAILED: "Failed"}

EXPIRED_CODE = "expired"
_OPEN = frozenset({OrderStatus.NOT_STARTED, OrderStatus.EXECUTING})


def merchant_status(status: str, failure_code: str | None, last_change: datetime, now: datetime,
                    abandoned_after: timedelta) -> MerchantStatus:
    """The name a merchant sees for a checkout in `status` whose last change was at `last_change`."""
    stored = OrderStatus(status)
    if stored is OrderStatus.SUCCESS:
        return MerchantStatus.SUCCEEDED
    if stored is OrderStatus.PENDING:
        return MerchantStatus.PENDING
    if stored is OrderStatus.FAILED:
        return MerchantStatus.EXPIRED if failure_code == EXPIRED_CODE else MerchantStatus.FAILED
    return MerchantStatus.ABANDONED if now - last_change >= abandoned_after else MerchantStatus.OPEN


@dataclass(frozen=True)
class StatusCriteria:
    """The same rule, as a filter: stored statuses, failure code (None: any; "" excluded) and freshness
    (True: changed within the abandon window, False: not, None: either). A read module turns it into SQL."""

    statuses: frozenset[OrderStatus]
    failure_code: str | None = None
    exclude_failure_code: str | None = None
    recent: bool | None = None


CRITERIA = {
    MerchantStatus.OPEN: StatusCriteria(_OPEN, recent=True),
    MerchantStatus.ABANDONED: StatusCriteria(_OPEN, recent=False),
    MerchantStatus.PENDING: StatusCriteria(frozenset({OrderStatus.PENDING})),
    MerchantStatus.SUCCEEDED: StatusCriteria(frozenset({OrderStatus.SUCCESS})),
    MerchantStatus.EXPIRED: StatusCriteria(frozenset({OrderStatus.FAILED}), failure_code=EXPIRED_CODE),
    MerchantStatus.FAILED: StatusCriteria(frozenset({OrderStatus.FAILED}), exclude_failure_code=EXPIRED_CODE),
}

FAILURE_WORDS = {
    "expired": "The payment page expired before the buyer paid.",
    "payment_failed": "The buyer's bank declined the payment or the transfer did not arrive.",
    "psp_unavailable": "The payment provider could not be reached; no money was taken.",
}

_MOVE = re.compile(r"^(?:Refund (?P<refund>\S+): )?(?P<before>[A-Za-z_]+) → (?P<after>[A-Za-z_]+) \((?P<source>.*)\)$")
_ARRIVED = {
    OrderStatus.EXECUTING: "The buyer was sent to the payment page.",
    OrderStatus.PENDING: "The buyer chose a payment that takes time (such as a bank transfer); waiting for the money.",
    OrderStatus.SUCCESS: "Payment received.",
    OrderStatus.FAILED: "The payment did not go through.",
}
_REFUND_ARRIVED = {"pending": "is being processed", "succeeded": "was paid back to the buyer",
                   "failed": "failed; the money went back to the seller's wallet",
                   "canceled": "was canceled; the money went back to the seller's wallet"}
_FAILED_BECAUSE = {"executor gave up": FAILURE_WORDS["psp_unavailable"],
                   "checkout.session.expired": FAILURE_WORDS["expired"],
                   "checkout.session.async_payment_failed": "The bank transfer or delayed payment did not arrive."}


def _source_words(source: str) -> str:
    if source.startswith(("checkout.", "payment_intent.", "charge.", "refund.")):
        return "reported by the payment provider"
    if source == "polled the PSP":
        return "confirmed with the payment provider"
    return ""


def describe_activity(kind: str, detail: str) -> str | None:
    """One timeline line in a merchant's words, or None for the platform's own bookkeeping (its processing fee
    and balance at the payment provider are not the merchant's business)."""
    if kind == "funds":
        return "The sellers' money became available in their wallets." if detail.startswith("Funds available") \
            else None
    if kind == "attempt":
        number = detail.rsplit(" ", 1)[-1]
        return "The buyer pressed Pay." if number == "1" else f"The buyer tried again (attempt {number})."
    found = _MOVE.match(detail)
    if found is None:
        return detail
    source = found["source"]
    if found["refund"]:
        words = _REFUND_ARRIVED.get(found["after"], found["after"].lower())
        return f"Refund {found['refund']} {words}."
    after = OrderStatus(found["after"]) if found["after"] in OrderStatus.__members__ else None
    if after is None:
        return detail
    sentence = _ARRIVED[after] if after is not OrderStatus.NOT_STARTED else "Waiting for the buyer."
    if after is OrderStatus.FAILED:
        sentence = _FAILED_BECAUSE.get(source, sentence)
    how = _source_words(source)
    return f"{sentence[:-1]} ({how})." if how else sentence
