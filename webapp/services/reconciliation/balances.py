"""Balances: what our books say each PSP account holds against what the PSP says, now.

- The platform: our PSP balance (pending + available) per currency against the platform's balance at the PSP.
- Each seller's connected account: the money our payouts put there and have not paid out or reversed (transfers
  not reversed, minus payouts not failed or canceled) against the connected account's balance at the PSP.

The PSP is asked once per account, concurrently, outside any transaction; the sums on our side are set-based.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, func, select

from webapp.domain.ledger import AccountKind
from webapp.domain.reconciliation import MismatchClass, Movement, mismatch_key
from webapp.extensions import db
from webapp.models import LedgerAccount, Payout, ReconMismatch
from webapp.psp import PspError, call_each
from webapp.psp.reporting import Balance, ReportingPsp, get_reporting_psp
from webapp.services.reconciliation.matching import Finding, _money

PLATFORM = "platform"


def _ours() -> dict[str, dict[str, int]]:
    """account (PLATFORM or a connected account id) → currency → what our books say it holds."""
    held: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for currency, total in db.session.execute(
            select(LedgerAccount.currency, func.sum(LedgerAccount.balance)).where(
                LedgerAccount.kind.in_((AccountKind.PSP_PENDING.value, AccountKind.PSP_AVAILABLE.value)))
            .group_by(LedgerAccount.currency)):
        held[PLATFORM][currency] += int(total)
    sent = case(((Payout.psp_transfer_id.is_not(None)) & (Payout.psp_reversal_id.is_(None)), Payout.amount), else_=0)
    paid = case(((Payout.psp_payout_id.is_not(None)) & (Payout.status.in_(("pending", "in_transit", "paid"))),
                 Payout.amount), else_=0)
    for account, currency, total in db.session.execute(
            select(Payout.psp_account_id, Payout.currency, func.sum(sent) - func.sum(paid))
            .group_by(Payout.psp_account_id, Payout.currency)):
        held[account][currency] += int(total)
    return held


# Open item-level differences whose money the PSP's balance holds and our books lack: a movement we never booked,
# an outcome (a bounced refund, a failed payout) we have not heard of. A balance difference they account for is
# theirs, not reported twice; what they leave unexplained is a balance mismatch.
EXPLAINING = (MismatchClass.MISSING_IN_LEDGER.value, MismatchClass.STATUS_MISMATCH.value)


def _explained(items: list[ReconMismatch]) -> dict[tuple[str, str], int]:
    explained: dict[tuple[str, str], int] = defaultdict(int)
    for item in items:
        if item.amount_psp is None or item.currency is None or item.class_name not in EXPLAINING:
            continue
        explained[(item.account or PLATFORM, item.currency)] += item.amount_psp - (item.fee_psp or 0)
    return explained


def compare(open_items: list[ReconMismatch], psp: ReportingPsp | None = None) -> list[Finding]:
    """A `balance_mismatch` finding per account and currency where the two differ by more than the open item-level
    differences explain."""
    ours = _ours()
    explained = _explained(open_items)
    db.session.rollback()
    client = psp or get_reporting_psp()

    def ask(account: str) -> Balance | PspError:
        try:
            return client.retrieve_balance(None if account == PLATFORM else account)
        except PspError as exc:
            return exc

    accounts = sorted(ours)
    found: list[Finding] = []
    for account, answer in zip(accounts, call_each(accounts, ask), strict=True):
        if isinstance(answer, PspError):
            found.append(Finding(MismatchClass.BALANCE_MISMATCH, Movement.OTHER,
                                 mismatch_key(MismatchClass.BALANCE_MISMATCH, account, "unreadable"), account=account,
                                 detail=f"The PSP's balance of {account} could not be read: {answer.message}"))
            continue
        theirs = {a.currency: a.available + a.pending for a in answer.amounts}
        for currency in sorted(set(theirs) | set(ours[account])):
            psp_total, our_total = theirs.get(currency, 0), ours[account].get(currency, 0)
            if psp_total - our_total == explained.get((account, currency), 0):
                continue
            name = "the platform" if account == PLATFORM else f"connected account {account}"
            found.append(Finding(
                MismatchClass.BALANCE_MISMATCH, Movement.OTHER,
                mismatch_key(MismatchClass.BALANCE_MISMATCH, account, currency), account=account, currency=currency,
                amount_psp=psp_total, amount_ours=our_total,
                detail=f"The PSP holds {_money(psp_total, currency)} for {name}; our books say "
                       f"{_money(our_total, currency)}"
                       + (f" ({_money(explained[(account, currency)], currency)} of it explained by open differences)."
                          if explained.get((account, currency)) else "."),
                evidence={"psp": {"account": account, "currency": currency, "balance": psp_total},
                          "ours": {"account": account, "currency": currency, "balance": our_total}}))
    return found
