"""The portal's overview: a merchant's volume, refunds, balances and next payouts, and 30 days of daily figures.

Read-only queries, aggregated by the database (one GROUP BY per figure, never a row per payment in Python).

- Gross volume: what buyers paid (succeeded checkouts), by the day the checkout was created.
- Net volume: what the merchant's sellers keep of it: gross minus the platform fee, minus the sellers' share of
  refunds made in the same days.
- Refunds: refunds requested in the window that did not fail or get canceled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Date, String, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from webapp.dbtypes import utcnow
from webapp.domain.payments import OrderStatus
from webapp.domain.payouts import PayoutStatus
from webapp.extensions import db
from webapp.models import OrderFunds, PaymentEvent, Payout, Refund, SellerAccount
from webapp.services import balances

DAYS = 30
NEXT_PAYOUTS = 5
_COUNTED_REFUNDS = ("requested", "pending", "succeeded")


@dataclass
class CurrencyFigures:
    """One currency's totals over the window, and its daily series (index 0 = the window's first day)."""

    currency: str
    gross: int = 0
    fees: int = 0
    refunds: int = 0
    refunded_from_sellers: int = 0
    payments: int = 0
    daily_gross: list[int] = field(default_factory=lambda: [0] * DAYS)
    daily_net: list[int] = field(default_factory=lambda: [0] * DAYS)
    daily_payments: list[int] = field(default_factory=lambda: [0] * DAYS)

    @property
    def net(self) -> int:
        return self.gross - self.fees - self.refunded_from_sellers


@dataclass(frozen=True)
class Overview:
    days: list[date]
    figures: list[CurrencyFigures]  # the currency with the most volume first
    balances: dict[str, tuple[int, int]]  # currency → (pending, available) over every seller
    next_payouts: list[Payout]


def _day(column) -> ColumnElement:
    """A timestamp's UTC day, on PostgreSQL and on SQLite (which keeps timestamps as text)."""
    if db.engine.dialect.name == "sqlite":
        return func.substr(cast(column, String), 1, 10)
    return cast(func.timezone("UTC", column), Date)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def overview(merchant_id: str, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    first = now.date() - timedelta(days=DAYS - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)
    days = [first + timedelta(days=i) for i in range(DAYS)]
    figures: dict[str, CurrencyFigures] = {}

    def of(currency: str) -> CurrencyFigures:
        return figures.setdefault(currency, CurrencyFigures(currency))

    day = _day(PaymentEvent.created_at)
    for when, currency, gross, count in db.session.execute(
            select(day, PaymentEvent.currency, func.sum(PaymentEvent.amount_total), func.count())
            .where(PaymentEvent.merchant_id == merchant_id, PaymentEvent.created_at >= start,
                   PaymentEvent.status == OrderStatus.SUCCESS.value)
            .group_by(day, PaymentEvent.currency)):
        index = (_as_date(when) - first).days
        found = of(currency)
        found.gross += int(gross)
        found.payments += int(count)
        found.daily_gross[index] += int(gross)
        found.daily_net[index] += int(gross)
        found.daily_payments[index] += int(count)

    day = _day(PaymentEvent.created_at)
    for when, currency, fees in db.session.execute(
            select(day, OrderFunds.currency, func.sum(OrderFunds.platform_fee))
            .join(PaymentEvent, PaymentEvent.id == OrderFunds.payment_event_id)
            .where(PaymentEvent.merchant_id == merchant_id, PaymentEvent.created_at >= start)
            .group_by(day, OrderFunds.currency)):
        found = of(currency)
        found.fees += int(fees)
        found.daily_net[(_as_date(when) - first).days] -= int(fees)

    day = _day(Refund.created_at)
    for when, currency, amount, from_sellers in db.session.execute(
            select(day, Refund.currency, func.sum(Refund.amount), func.sum(Refund.seller_share))
            .where(Refund.merchant_id == merchant_id, Refund.created_at >= start,
                   Refund.status.in_(_COUNTED_REFUNDS))
            .group_by(day, Refund.currency)):
        found = of(currency)
        found.refunds += int(amount)
        found.refunded_from_sellers += int(from_sellers)
        found.daily_net[(_as_date(when) - first).days] -= int(from_sellers)

    seller_ids = list(db.session.scalars(select(SellerAccount.id).where(SellerAccount.merchant_id == merchant_id)))
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for rows in balances.wallets(seller_ids).values():
        for wallet in rows:
            totals[wallet.currency][0] += wallet.pending
            totals[wallet.currency][1] += wallet.available
    next_payouts = list(db.session.scalars(
        select(Payout).where(Payout.merchant_id == merchant_id,
                             Payout.status.in_((PayoutStatus.PENDING.value, PayoutStatus.IN_TRANSIT.value)))
        .order_by(Payout.arrival_date.asc().nulls_last(), Payout.created_at).limit(NEXT_PAYOUTS)))
    ordered = sorted(figures.values(), key=lambda f: (-f.gross, f.currency))
    return Overview(days, ordered, {c: (p, a) for c, (p, a) in sorted(totals.items())}, next_payouts)
