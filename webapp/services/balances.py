"""Reading the ledger for people: wallet balances, the lines behind them, a payment's journal entries, and
the platform's balances. Read-only; balances come from the cached column (kept equal to the postings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.domain.ledger import AccountKind
from webapp.extensions import db
from webapp.models import LedgerAccount, LedgerEntry, LedgerPosting


@dataclass(frozen=True)
class WalletBalance:
    seller_account_id: str
    currency: str
    pending: int
    available: int

    @property
    def total(self) -> int:
        return self.pending + self.available


def wallets(seller_account_ids: Iterable[str]) -> dict[str, list[WalletBalance]]:
    """Per seller account, its wallet per currency (only currencies it has money movements in)."""
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for seller, currency, kind, balance in db.session.execute(
            select(LedgerAccount.seller_account_id, LedgerAccount.currency, LedgerAccount.kind, LedgerAccount.balance)
            .where(LedgerAccount.seller_account_id.in_(list(seller_account_ids)))):
        found[(str(seller), currency)][kind] = int(balance)
    result: dict[str, list[WalletBalance]] = defaultdict(list)
    for (seller, currency), kinds in sorted(found.items()):
        result[seller].append(WalletBalance(seller, currency, kinds.get(AccountKind.WALLET_PENDING.value, 0),
                                            kinds.get(AccountKind.WALLET_AVAILABLE.value, 0)))
    return dict(result)


@dataclass(frozen=True)
class Line:
    """One posting on a wallet, as its owner reads it: + money in, - money out, on which side."""

    id: int
    entry: LedgerEntry
    side: str
    change: int
    currency: str


@dataclass(frozen=True)
class LinePage:
    lines: list[Line]
    next_before: int | None  # the `before` cursor of the next (older) page, if any


def wallet_lines(seller_account_id: str, *, before: int | None = None, per_page: int = 25) -> LinePage:
    """The postings on a seller's wallet accounts, newest first, keyset-paginated by posting id."""
    query = (select(LedgerPosting, LedgerAccount.kind, LedgerAccount.sign)
             .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
             .where(LedgerAccount.seller_account_id == seller_account_id)
             .options(selectinload(LedgerPosting.entry))
             .order_by(LedgerPosting.id.desc()).limit(per_page + 1))
    if before is not None:
        query = query.where(LedgerPosting.id < before)
    rows = db.session.execute(query).all()
    lines = [Line(posting.id, posting.entry, "pending" if kind == AccountKind.WALLET_PENDING.value else "available",
                  sign * posting.amount, posting.currency) for posting, kind, sign in rows[:per_page]]
    return LinePage(lines, lines[-1].id if len(rows) > per_page else None)


def entries_for_payment(payment_event_id: str) -> list[LedgerEntry]:
    return list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.payment_event_id == payment_event_id)
        .options(selectinload(LedgerEntry.postings).selectinload(LedgerPosting.account)
                 .selectinload(LedgerAccount.seller))
        .order_by(LedgerEntry.id)))


def platform_accounts() -> dict[str, list[LedgerAccount]]:
    """The platform's own accounts per currency (wallets excluded), in a fixed reading order."""
    order = [AccountKind.PSP_PENDING, AccountKind.PSP_AVAILABLE, AccountKind.FEE_REVENUE, AccountKind.PSP_FEES,
             AccountKind.REFUNDS, AccountKind.PAYOUTS_IN_TRANSIT]
    rank = {kind.value: i for i, kind in enumerate(order)}
    result: dict[str, list[LedgerAccount]] = defaultdict(list)
    for account in db.session.scalars(select(LedgerAccount).where(LedgerAccount.seller_account_id.is_(None))):
        result[account.currency].append(account)
    return {currency: sorted(accounts, key=lambda a: rank.get(a.kind, 99))
            for currency, accounts in sorted(result.items())}
