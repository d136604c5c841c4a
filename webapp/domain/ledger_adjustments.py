"""The ledger's posting rule for reconciliation's adjusting entries (accounts and entries: webapp.domain.ledger)."""

from __future__ import annotations

from webapp.domain.ledger import AccountKind, EntryKind, JournalEntry, credit, debit, entry, platform, psp_balance
from webapp.domain.wallets import Funds


def adjustment(key: str, currency: str, psp_delta: int, against: AccountKind, note: str) -> JournalEntry:
    """An adjusting entry from reconciliation: the platform's available PSP balance moves by `psp_delta` (what the
    PSP holds minus what we booked; may be negative) against the suspense or the PSP-fee account. The note, which
    people must give, becomes the memo."""
    if type(psp_delta) is not int or psp_delta == 0:
        raise ValueError(f"an adjustment moves a non-zero integer of minor units, got {psp_delta!r}")
    if against not in (AccountKind.SUSPENSE, AccountKind.PSP_FEES):
        raise ValueError(f"adjustments go to the suspense or PSP-fee account, not {against}")
    if not note.strip():
        raise ValueError("an adjusting entry needs a note")
    return entry(key, EntryKind.ADJUSTMENT,
                 debit(psp_balance(Funds.AVAILABLE, currency), psp_delta),
                 credit(platform(against, currency), psp_delta), memo=note.strip())
