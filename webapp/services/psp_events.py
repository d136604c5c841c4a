"""PSP events other than checkout sessions: refunds, funds becoming available, sellers' payouts and accounts.
Applied by the inbox (`inbox._apply`) inside its per-event savepoint, like the checkout session events.

- Refund news carries the refund: applied at once (our refund is found by the `refund_id` we put in its
  metadata, else by the PSP's refund id).
- A refunded charge asks a `refunds.sync` job to list the PaymentIntent's refunds, so a lost refund event cannot
  leave a refund unsettled.
- Funds available on the platform's balance: the event's time is the watermark up to which funds are available; a
  `ledger.available` job applies it.
- Payouts and accounts of connected accounts (sellers): the payout's status, the account's ability to be paid
  out, its bank account's state.
"""

from __future__ import annotations

from collections.abc import Callable

from webapp.psp import (
    ChargeRefunded,
    ConnectedAccount,
    FundsAvailable,
    Notice,
    NoticeKind,
    PspBankAccount,
    PspPayout,
    PspRefund,
)
from webapp.services import funds, payout_updates, refunds, sellers

PLATFORM_ONLY = frozenset({NoticeKind.REFUND, NoticeKind.CHARGE_REFUNDED, NoticeKind.FUNDS_AVAILABLE})
CONNECTED_ONLY = frozenset({NoticeKind.PAYOUT, NoticeKind.ACCOUNT, NoticeKind.BANK_ACCOUNT})


def _refund(notice: Notice) -> str:
    assert isinstance(notice.subject, PspRefund)
    return refunds.apply_psp_refund(notice.subject, source=notice.type, psp_event_id=notice.id)


def _charge_refunded(notice: Notice) -> str:
    assert isinstance(notice.subject, ChargeRefunded)
    return refunds.note_charge_refunded(notice.subject.payment_intent_id, notice.id)


def _funds_available(notice: Notice) -> str:
    assert isinstance(notice.subject, FundsAvailable)
    return funds.note_funds_available(notice.subject, notice.id)


def _payout(notice: Notice) -> str:
    assert isinstance(notice.subject, PspPayout)
    return payout_updates.apply_psp_payout(notice.subject, source=notice.type)


def _account(notice: Notice) -> str:
    assert isinstance(notice.subject, ConnectedAccount)
    return sellers.apply_connected_account(notice.subject, source=notice.type)


def _bank_account(notice: Notice) -> str:
    assert isinstance(notice.subject, PspBankAccount)
    return sellers.apply_bank_account(notice.subject, notice.account, source=notice.type)


HANDLERS: dict[NoticeKind, Callable[[Notice], str]] = {
    NoticeKind.REFUND: _refund, NoticeKind.CHARGE_REFUNDED: _charge_refunded,
    NoticeKind.FUNDS_AVAILABLE: _funds_available, NoticeKind.PAYOUT: _payout, NoticeKind.ACCOUNT: _account,
    NoticeKind.BANK_ACCOUNT: _bank_account,
}


def apply(notice: Notice) -> str:
    """Apply one stored PSP event; returns what happened (kept on the inbox row)."""
    if notice.account and notice.kind in PLATFORM_ONLY:
        return "ignored_connected_account"
    if not notice.account and notice.kind in CONNECTED_ONLY and notice.kind is not NoticeKind.ACCOUNT:
        return "ignored_platform_account"
    handler = HANDLERS.get(notice.kind)
    return handler(notice) if handler else "ignored"


def checkout_of(notice: Notice) -> str | None:
    """The checkout an event's handler will lock, from the metadata we gave the PSP: the inbox sorts its batch
    by it, so concurrent workers take checkout locks in one order."""
    if notice.kind is NoticeKind.REFUND and isinstance(notice.subject, PspRefund):
        return notice.subject.metadata.get("payment_event_id")
    return None
