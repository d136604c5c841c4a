"""The pay-out invariants of `flask ledger verify` (called by webapp.services.verification.verify()).

- Payouts in transit equal the sum of unsettled payouts (pending or in transit), per currency.
- The sellers' PSP balances (money transferred to connected accounts) equal the payouts transferred and neither
  paid nor reversed back to the platform.
- Paid out (the ledger's paid entries less the bank returns) equals the sum of paid payouts.
- Every payout's statement lines sum to its amount.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from webapp.domain.ledger import AccountKind, EntryKind
from webapp.domain.money import describe
from webapp.domain.payouts import UNSETTLED, PayoutStatus
from webapp.extensions import db
from webapp.models import LedgerEntry, LedgerPosting, Payout, PayoutItem

CHECKS = {
    "payouts_in_transit": "Payouts in transit equal the sum of unsettled payouts, per currency",
    "payouts_at_connected_accounts": "Sellers' PSP balances equal the payouts transferred and not yet paid or "
                                     "reversed",
    "payouts_paid_out": "Paid out equals the sum of paid payouts, per currency",
    "payout_statements": "Every payout's statement lines sum to its amount",
}



def _pairs(rows: Any) -> dict[str, int]:
    """{currency: amount} from rows of (currency, sum)."""
    return {str(currency): int(total or 0) for currency, total in rows}


def _compare(name: str, expected: dict[str, int], actual: dict[str, int], what: str) -> list[str]:
    return [f"{currency}: the ledger shows {describe(actual.get(currency, 0), currency)} {name}, the payouts "
            f"{what} {describe(expected.get(currency, 0), currency)}"
            for currency in sorted(set(expected) | set(actual)) if expected.get(currency, 0) != actual.get(currency, 0)]


def check(report: Any, accounts: list[Any], shown: int) -> None:
    """Add the pay-out checks' violations to `report` (its `add(check, messages)`); `accounts` carry `kind`,
    `currency` and `summed` (the normal-side balance from the postings)."""
    balances: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for account in accounts:
        balances[account.kind][account.currency] += account.summed
    unsettled = _pairs(db.session.execute(
        select(Payout.currency, func.sum(Payout.amount)).where(Payout.status.in_([s.value for s in UNSETTLED]))
        .group_by(Payout.currency)).all())
    report.add("payouts_in_transit", _compare("in transit", unsettled,
                                              balances[AccountKind.PAYOUTS_IN_TRANSIT.value], "not yet settled add to"))
    at_connected = _pairs(db.session.execute(
        select(Payout.currency, func.sum(Payout.amount))
        .where(Payout.psp_transfer_id.is_not(None), Payout.psp_reversal_id.is_(None),
               Payout.status != PayoutStatus.PAID.value)
        .group_by(Payout.currency)).all())
    report.add("payouts_at_connected_accounts", _compare(
        "at sellers' PSP accounts", at_connected,
        balances[AccountKind.PSP_CONNECTED.value], "transferred and not paid or reversed add to"))
    paid = _pairs(db.session.execute(select(Payout.currency, func.sum(Payout.amount))
                                   .where(Payout.status == PayoutStatus.PAID.value)
                                   .group_by(Payout.currency)).all())
    # A paid entry debits payouts in transit by the amount paid; a bank's return credits it back.
    paid_out = _pairs(db.session.execute(
        select(LedgerPosting.currency, func.sum(LedgerPosting.amount))
        .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
        .where(LedgerEntry.kind.in_([EntryKind.PAYOUT_PAID.value, EntryKind.PAYOUT_UNPAID.value]),
               LedgerPosting.account_id.like(f"%:{AccountKind.PAYOUTS_IN_TRANSIT.value}:%"))
        .group_by(LedgerPosting.currency)).all())
    report.add("payouts_paid_out", _compare("paid out", paid,
                                            paid_out, "paid add to"))
    lines = (select(PayoutItem.payout_id, func.sum(PayoutItem.amount).label("total"))
             .group_by(PayoutItem.payout_id).subquery())
    wrong = db.session.execute(
        select(Payout.id, Payout.amount, Payout.currency, func.coalesce(lines.c.total, 0))
        .outerjoin(lines, lines.c.payout_id == Payout.id)
        .where(func.coalesce(lines.c.total, 0) != Payout.amount).limit(shown + 1)).all()
    report.add("payout_statements", [f"payout {payout_id} of {describe(amount, currency)}: its lines sum to "
                                     f"{describe(total, currency)}" for payout_id, amount, currency, total in wrong])
