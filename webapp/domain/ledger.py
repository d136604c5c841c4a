"""The double-entry ledger: accounts per currency, postings, and journal entries that must balance.

Sign convention: a posting's `amount` is an integer of minor units, positive for a debit and negative
for a credit, so every journal entry sums to zero per currency. Each account kind has a normal side:
assets and expenses grow with debits (`sign` +1), liabilities and revenue with credits (`sign` -1); the
balance people read is `sign * sum(postings)`, so a wallet holding 5.00 shows 5.00, not -5.00.

Accounts (one per currency, plus one pair per seller account):

- `platform:psp_pending:<CUR>` / `platform:psp_available:<CUR>` — the platform's balance at the PSP, not
  yet / already available (asset).
- `seller:<id>:pending:<CUR>` / `seller:<id>:available:<CUR>` — what the platform owes a seller account
  (liability). Pending never goes below zero; available only through a refund taken after its money was paid
  out, the debt netted from the next payouts (Stripe's `debit_negative_balances` model).
- `platform:fee_revenue:<CUR>` — platform fees earned (revenue); `platform:psp_fees:<CUR>` — the PSP's
  processing fees (expense).
- `platform:refunds:<CUR>` — refunds reserved and sent to the PSP whose outcome is not known yet
  (liability: money owed to buyers).
- `platform:payouts_in_transit:<CUR>` — money taken from a wallet for a payout the PSP has not confirmed
  paid yet (liability: still owed to the seller until the bank has it).
- `platform:suspense:<CUR>` — differences reconciliation found between the PSP and our books, parked by an
  adjusting entry until someone explains them (liability: credited when the PSP holds more than we booked).
- `platform:psp_connected:<CUR>` — money transferred to sellers' connected accounts at the PSP and not yet
  paid to their banks (asset: it comes back by a transfer reversal if the payout fails).

The posting rules below build the entry of each business event; its `key` is unique in the database,
so each event posts at most once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from webapp.domain.wallets import Funds

PLATFORM = "platform"


class UnbalancedEntry(ValueError):
    """A journal entry whose postings do not sum to zero in some currency."""

    def __init__(self, key: str, currency: str, total: int) -> None:
        super().__init__(f"journal entry {key!r} does not balance in {currency}: postings sum to {total}")
        self.key, self.currency, self.total = key, currency, total


class AccountKind(StrEnum):
    PSP_PENDING = "psp_pending"
    PSP_AVAILABLE = "psp_available"
    WALLET_PENDING = "wallet_pending"
    WALLET_AVAILABLE = "wallet_available"
    FEE_REVENUE = "fee_revenue"
    PSP_FEES = "psp_fees"
    REFUNDS = "refunds"
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"
    PSP_CONNECTED = "psp_connected"
    SUSPENSE = "suspense"


DEBIT_NORMAL = frozenset({AccountKind.PSP_PENDING, AccountKind.PSP_AVAILABLE, AccountKind.PSP_FEES,
                          AccountKind.PSP_CONNECTED})
WALLET_KINDS = frozenset({AccountKind.WALLET_PENDING, AccountKind.WALLET_AVAILABLE})
LABELS = {
    AccountKind.PSP_PENDING: "PSP balance, pending",
    AccountKind.PSP_AVAILABLE: "PSP balance, available",
    AccountKind.WALLET_PENDING: "Wallet, pending",
    AccountKind.WALLET_AVAILABLE: "Wallet, available",
    AccountKind.FEE_REVENUE: "Platform fee revenue",
    AccountKind.PSP_FEES: "PSP processing fees",
    AccountKind.REFUNDS: "Refunds in flight",
    AccountKind.PAYOUTS_IN_TRANSIT: "Payouts in transit",
    AccountKind.PSP_CONNECTED: "Sellers' PSP balances",
    AccountKind.SUSPENSE: "Reconciliation suspense",
}
_PLATFORM_CODES = {
    AccountKind.PSP_PENDING: "psp_pending", AccountKind.PSP_AVAILABLE: "psp_available",
    AccountKind.FEE_REVENUE: "fee_revenue", AccountKind.PSP_FEES: "psp_fees", AccountKind.REFUNDS: "refunds",
    AccountKind.PAYOUTS_IN_TRANSIT: "payouts_in_transit", AccountKind.PSP_CONNECTED: "psp_connected",
    AccountKind.SUSPENSE: "suspense",
}


def sign_of(kind: AccountKind) -> int:
    """+1 for debit-normal accounts (assets, expenses), -1 for credit-normal ones (liabilities, revenue)."""
    return 1 if kind in DEBIT_NORMAL else -1


@dataclass(frozen=True, order=True)
class Account:
    """One ledger account: a kind, a currency and, for wallets, the seller account that owns it."""

    kind: AccountKind
    currency: str
    seller_account_id: str | None = None

    def __post_init__(self) -> None:
        if (self.kind in WALLET_KINDS) != (self.seller_account_id is not None):
            raise ValueError(f"{self.kind} accounts {'need' if self.kind in WALLET_KINDS else 'take no'} seller")

    @property
    def code(self) -> str:
        """The account's id in the database, e.g. `seller:sel_123:pending:USD` or `platform:psp_fees:USD`."""
        if self.seller_account_id is not None:
            bucket = "pending" if self.kind is AccountKind.WALLET_PENDING else "available"
            return f"seller:{self.seller_account_id}:{bucket}:{self.currency}"
        return f"{PLATFORM}:{_PLATFORM_CODES[self.kind]}:{self.currency}"

    @property
    def sign(self) -> int:
        return sign_of(self.kind)

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def psp_balance(funds: Funds, currency: str) -> Account:
    return Account(AccountKind.PSP_PENDING if funds is Funds.PENDING else AccountKind.PSP_AVAILABLE, currency)


def wallet(seller_account_id: str, funds: Funds, currency: str) -> Account:
    kind = AccountKind.WALLET_PENDING if funds is Funds.PENDING else AccountKind.WALLET_AVAILABLE
    return Account(kind, currency, seller_account_id)


def platform(kind: AccountKind, currency: str) -> Account:
    return Account(kind, currency)


@dataclass(frozen=True)
class Posting:
    account: Account
    amount: int  # minor units; > 0 debit, < 0 credit

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise TypeError(f"posting amounts are integers of minor units, got {self.amount!r}")


def debit(account: Account, amount: int) -> Posting:
    return Posting(account, amount)


def credit(account: Account, amount: int) -> Posting:
    return Posting(account, -amount)


class EntryKind(StrEnum):
    CAPTURE = "capture"
    PSP_FEE = "psp_fee"
    FUNDS_AVAILABLE = "funds_available"
    REFUND_RESERVED = "refund_reserved"
    REFUND_PAID = "refund_paid"
    REFUND_RELEASED = "refund_released"
    REFUND_RETURNED = "refund_returned"
    PAYOUT_RESERVED = "payout_reserved"
    PAYOUT_TRANSFERRED = "payout_transferred"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_UNPAID = "payout_unpaid"
    PAYOUT_RETURNED = "payout_returned"
    PAYOUT_REVERSED = "payout_reversed"
    ADJUSTMENT = "adjustment"


def sums_by_currency(postings: Iterable[Posting]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        totals[posting.account.currency] += posting.amount
    return dict(totals)


@dataclass(frozen=True)
class JournalEntry:
    """A business event's postings. Cannot be constructed unless they sum to zero in every currency;
    postings of zero are left out (an order whose whole amount is platform fee credits no wallet)."""

    key: str
    kind: EntryKind
    postings: tuple[Posting, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a journal entry needs a key")
        object.__setattr__(self, "postings", tuple(p for p in self.postings if p.amount != 0))
        for currency, total in sums_by_currency(self.postings).items():
            if total != 0:
                raise UnbalancedEntry(self.key, currency, total)

    @property
    def currency(self) -> str | None:
        currencies = {p.account.currency for p in self.postings}
        return currencies.pop() if len(currencies) == 1 else None

    def deltas(self) -> dict[Account, int]:
        """Change of each account's normal-side balance."""
        changes: dict[Account, int] = defaultdict(int)
        for posting in self.postings:
            changes[posting.account] += posting.account.sign * posting.amount
        return dict(changes)


def entry(key: str, kind: EntryKind, *postings: Posting, memo: str = "") -> JournalEntry:
    return JournalEntry(key, kind, tuple(postings), memo)


def _non_negative(**amounts: int) -> None:
    for name, value in amounts.items():
        if type(value) is not int or value < 0:
            raise ValueError(f"{name} must be a non-negative integer of minor units, got {value!r}")


# Posting rules: one function per business event.

def capture(payment_order_id: str, seller_account_id: str, currency: str, amount: int, platform_fee: int,
            reference: str | None = None) -> JournalEntry:
    """A payment order reached SUCCESS: the buyer's money arrives at the platform's PSP balance (pending),
    the seller's pending wallet is credited with the amount minus the platform fee, the fee is revenue.
    `reference` (the merchant's id of the order) names it in the memo people read."""
    _non_negative(amount=amount, platform_fee=platform_fee)
    if platform_fee > amount:
        raise ValueError("the platform fee cannot exceed the amount")
    return entry(f"capture:{payment_order_id}", EntryKind.CAPTURE,
                 debit(psp_balance(Funds.PENDING, currency), amount),
                 credit(wallet(seller_account_id, Funds.PENDING, currency), amount - platform_fee),
                 credit(platform(AccountKind.FEE_REVENUE, currency), platform_fee),
                 memo=f"Payment order {reference or payment_order_id} captured")


def psp_fee(charge_id: str, currency: str, fee: int) -> JournalEntry:
    """The PSP kept its processing fee out of the charge: an expense, paid from the pending PSP balance."""
    _non_negative(fee=fee)
    return entry(f"psp_fee:{charge_id}", EntryKind.PSP_FEE,
                 debit(platform(AccountKind.PSP_FEES, currency), fee),
                 credit(psp_balance(Funds.PENDING, currency), fee),
                 memo=f"PSP processing fee of charge {charge_id}")


def funds_available(charge_id: str, currency: str, net: int, sellers: Mapping[str, int]) -> JournalEntry:
    """The PSP made a charge's funds available: its net moves from pending to available at the PSP, and each
    seller's still-pending share of it moves from the pending to the available side of the wallet. The net
    is negative when the PSP's fee exceeds a (tiny) charge: the shortfall then moves instead."""
    if type(net) is not int:
        raise ValueError(f"net must be an integer of minor units, got {net!r}")
    _non_negative(**{f"share of {s}": v for s, v in sellers.items()})
    postings = [debit(psp_balance(Funds.AVAILABLE, currency), net),
                credit(psp_balance(Funds.PENDING, currency), net)]
    for seller_account_id, amount in sorted(sellers.items()):
        postings += [debit(wallet(seller_account_id, Funds.PENDING, currency), amount),
                     credit(wallet(seller_account_id, Funds.AVAILABLE, currency), amount)]
    return entry(f"available:{charge_id}", EntryKind.FUNDS_AVAILABLE, *postings,
                 memo=f"Funds available at the PSP (charge {charge_id})")


def refund_reserved(refund_id: str, seller_account_id: str, funds: Funds, currency: str, seller_share: int,
                    fee_share: int) -> JournalEntry:
    """A refund was requested: the seller's share leaves its wallet (the side holding the order's funds) and
    the platform gives back its fee share; together they are owed to the buyer until the PSP answers."""
    _non_negative(seller_share=seller_share, fee_share=fee_share)
    return entry(f"refund:{refund_id}", EntryKind.REFUND_RESERVED,
                 debit(wallet(seller_account_id, funds, currency), seller_share),
                 debit(platform(AccountKind.FEE_REVENUE, currency), fee_share),
                 credit(platform(AccountKind.REFUNDS, currency), seller_share + fee_share),
                 memo=f"Refund {refund_id} reserved")


def refund_paid(refund_id: str, currency: str, amount: int) -> JournalEntry:
    """The PSP paid the refund out of the platform's available balance."""
    _non_negative(amount=amount)
    return entry(f"refund_paid:{refund_id}", EntryKind.REFUND_PAID,
                 debit(platform(AccountKind.REFUNDS, currency), amount),
                 credit(psp_balance(Funds.AVAILABLE, currency), amount),
                 memo=f"Refund {refund_id} paid by the PSP")


def refund_released(refund_id: str, seller_account_id: str, funds: Funds, currency: str, seller_share: int,
                    fee_share: int) -> JournalEntry:
    """A refund failed before the PSP paid it: the reservation goes back where the order's funds are now."""
    _non_negative(seller_share=seller_share, fee_share=fee_share)
    return entry(f"refund_released:{refund_id}", EntryKind.REFUND_RELEASED,
                 debit(platform(AccountKind.REFUNDS, currency), seller_share + fee_share),
                 credit(wallet(seller_account_id, funds, currency), seller_share),
                 credit(platform(AccountKind.FEE_REVENUE, currency), fee_share),
                 memo=f"Refund {refund_id} failed; reservation released")


def refund_returned(refund_id: str, seller_account_id: str, funds: Funds, currency: str, seller_share: int,
                    fee_share: int) -> JournalEntry:
    """A refund the PSP had paid bounced: the money is back on the platform's available balance and goes back
    to the seller's wallet and the platform's fee revenue."""
    _non_negative(seller_share=seller_share, fee_share=fee_share)
    return entry(f"refund_returned:{refund_id}", EntryKind.REFUND_RETURNED,
                 debit(psp_balance(Funds.AVAILABLE, currency), seller_share + fee_share),
                 credit(wallet(seller_account_id, funds, currency), seller_share),
                 credit(platform(AccountKind.FEE_REVENUE, currency), fee_share),
                 memo=f"Refund {refund_id} failed after payment; money returned")

