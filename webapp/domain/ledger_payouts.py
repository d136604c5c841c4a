"""The ledger's posting rules for pay-outs (accounts and entries are defined in webapp.domain.ledger).

Reserve from the wallet, transfer to the seller's connected account, paid by the bank; or, when the payout fails
or is canceled, back to the wallet, and the transfer reversed back to the platform.
"""

from __future__ import annotations

from webapp.domain.ledger import (
    AccountKind,
    EntryKind,
    JournalEntry,
    credit,
    debit,
    entry,
    platform,
    psp_balance,
    wallet,
)
from webapp.domain.wallets import Funds


def _positive(**amounts: int) -> None:
    for name, value in amounts.items():
        if type(value) is not int or value <= 0:
            raise ValueError(f"{name} must be a positive integer of minor units, got {value!r}")


def payout_reserved(payout_id: str, seller_account_id: str, currency: str, amount: int) -> JournalEntry:
    """A payout was created: its amount leaves the seller's available wallet and is in transit."""
    _positive(amount=amount)
    return entry(f"payout:{payout_id}", EntryKind.PAYOUT_RESERVED,
                 debit(wallet(seller_account_id, Funds.AVAILABLE, currency), amount),
                 credit(platform(AccountKind.PAYOUTS_IN_TRANSIT, currency), amount),
                 memo=f"Payout {payout_id} reserved")


def payout_transferred(payout_id: str, currency: str, amount: int) -> JournalEntry:
    """The PSP moved the payout's amount from the platform's balance to the seller's connected account."""
    _positive(amount=amount)
    return entry(f"payout_transfer:{payout_id}", EntryKind.PAYOUT_TRANSFERRED,
                 debit(platform(AccountKind.PSP_CONNECTED, currency), amount),
                 credit(psp_balance(Funds.AVAILABLE, currency), amount),
                 memo=f"Payout {payout_id}: transferred to the seller's PSP account")


def payout_paid(payout_id: str, currency: str, amount: int) -> JournalEntry:
    """The bank has the money: nothing is owed or held for this payout any more."""
    _positive(amount=amount)
    return entry(f"payout_paid:{payout_id}", EntryKind.PAYOUT_PAID,
                 debit(platform(AccountKind.PAYOUTS_IN_TRANSIT, currency), amount),
                 credit(platform(AccountKind.PSP_CONNECTED, currency), amount),
                 memo=f"Payout {payout_id} paid")


def payout_unpaid(payout_id: str, currency: str, amount: int) -> JournalEntry:
    """A payout booked as paid was returned by the bank: the paid booking is undone (the money is back on the
    seller's connected account and owed to the seller again)."""
    _positive(amount=amount)
    return entry(f"payout_unpaid:{payout_id}", EntryKind.PAYOUT_UNPAID,
                 debit(platform(AccountKind.PSP_CONNECTED, currency), amount),
                 credit(platform(AccountKind.PAYOUTS_IN_TRANSIT, currency), amount),
                 memo=f"Payout {payout_id} returned by the bank after it was paid")


def payout_returned(payout_id: str, seller_account_id: str, currency: str, amount: int) -> JournalEntry:
    """A payout failed or was canceled: its amount is back in the seller's available wallet."""
    _positive(amount=amount)
    return entry(f"payout_returned:{payout_id}", EntryKind.PAYOUT_RETURNED,
                 debit(platform(AccountKind.PAYOUTS_IN_TRANSIT, currency), amount),
                 credit(wallet(seller_account_id, Funds.AVAILABLE, currency), amount),
                 memo=f"Payout {payout_id} failed; money back in the wallet")


def payout_reversed(payout_id: str, currency: str, amount: int) -> JournalEntry:
    """The transfer of a payout that did not reach the bank was reversed: the money is back on the platform's
    PSP balance."""
    _positive(amount=amount)
    return entry(f"payout_reversal:{payout_id}", EntryKind.PAYOUT_REVERSED,
                 debit(psp_balance(Funds.AVAILABLE, currency), amount),
                 credit(platform(AccountKind.PSP_CONNECTED, currency), amount),
                 memo=f"Payout {payout_id}: transfer reversed to the platform")
