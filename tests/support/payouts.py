"""Helpers for pay-out tests: sellers onboarded at the sandbox, money made available, payout jobs drained."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.sandbox import advance_clock
from webapp.domain.sellers import NewSeller
from webapp.extensions import db
from webapp.models import Payout, SellerAccount
from webapp.services import payouts, sellers

PAYOUT_TOPICS = (sellers.ONBOARD_TOPIC, sellers.BANK_TOPIC, payouts.TRANSFER_TOPIC, payouts.SUBMIT_TOPIC,
                 payouts.REVERSE_TOPIC, payouts.SYNC_TOPIC, "inbox")
GOOD_IBANS = ["DE89370400440532013000", "NL91ABNA0417164300", "GB82WEST12345698765432", "FR1420041010050500013M02606"]
NO_ACCOUNT_IBAN = "DE62370400440532013001"  # the sandbox's test IBAN whose payouts fail with no_account


def drain_payouts() -> None:
    pay.drain(*PAYOUT_TOPICS)


def onboarded_sellers(merchant, ibans: list[str], **schedule) -> list[SellerAccount]:
    """Seller accounts created through the service and onboarded at the sandbox (connected accounts exist)."""
    created = [sellers.create(merchant, NewSeller.basic(f"Seller {i}", iban, "USD")) for i, iban in enumerate(ibans)]
    pay.wait_until(lambda: (drain_payouts(), all(s.psp_account_id for s in _reload(created)))[1],
                   what="sellers onboarded at the PSP")
    return _reload(created)


def _reload(rows: list[SellerAccount]) -> list[SellerAccount]:
    db.session.rollback()
    return [db.session.get(SellerAccount, s.id) for s in rows]


def make_available(psp_url: str) -> None:
    """Move the sandbox clock past the funds' availability and apply what it announces."""
    before = books.platform("psp_available")
    advance_clock(psp_url, 2 * 86_400 + 60)
    pay.wait_until(lambda: (books.drain_money(), books.platform("psp_available") > before)[1],
                   what="funds available")


def payouts_of(seller_id: str) -> list[Payout]:
    db.session.rollback()
    return list(db.session.scalars(select(Payout).where(Payout.seller_account_id == seller_id)
                                   .order_by(Payout.created_at)))


def run_and_submit(day: date | None = None, **kwargs) -> payouts.RunResult:
    result = payouts.run(day or date.today(), **kwargs)
    drain_payouts()
    drain_payouts()
    return result


def settle_payouts(psp_url: str, seconds: int = 3 * 86_400) -> None:
    """Move the sandbox clock until payouts arrive (or fail) and apply the news."""
    advance_clock(psp_url, seconds)
    drain_payouts()
