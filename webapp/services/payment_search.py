"""Finding a merchant's payments: search, filters, keyset pages, and every match in batches for the CSV export.

Read-only. One search box matches a payment id, a checkout id (or its beginning), a buyer's email (by its keyed
hash: the email stays encrypted, see webapp.services.lookup) or one of the checkout's order ids. Filters: the
status as merchants name it (webapp.domain.payment_words), creation date range, seller, amount range.
Pages are keyset-paginated on (created_at, id), newest first, so they stay stable while payments arrive and
cost the same on page 1 and page 4,000.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, Row, Select, case, cast, exists, func, or_, select, tuple_
from sqlalchemy.orm import aliased, selectinload

from webapp.dbtypes import utcnow
from webapp.domain.errors import ValidationError
from webapp.domain.money import CURRENCY_EXPONENTS
from webapp.domain.payment_words import CRITERIA, MerchantStatus
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder, Refund
from webapp.services import lookup

EXPORT_BATCH = 1000
_COUNTED_REFUNDS = ("requested", "pending", "succeeded")


@dataclass(frozen=True)
class PaymentQuery:
    merchant_id: str
    text: str | None = None
    status: MerchantStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    seller_account_id: str | None = None
    amount_min: Decimal | None = None  # in the payment's own currency, major units
    amount_max: Decimal | None = None
    abandoned_after: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Page:
    items: list[Row]  # what the list shows of each payment, with `order_count` and `refunded` (minor units)
    has_more: bool


def _in_minor(amount: Decimal) -> object:
    """`amount` (major units) in each row's minor units: one CASE over the currencies' exponents."""
    by_exponent = {e: int(amount.scaleb(e).to_integral_value()) for e in set(CURRENCY_EXPONENTS.values())}
    odd = {c: by_exponent[e] for c, e in CURRENCY_EXPONENTS.items() if e != 2}
    return case(odd, value=PaymentEvent.currency, else_=by_exponent[2])


def _text_matches(text: str):
    matches = [PaymentEvent.id == text, PaymentEvent.checkout_id == text,
               PaymentEvent.checkout_id.startswith(text, autoescape=True),
               exists().where(PaymentOrder.payment_event_id == PaymentEvent.id, PaymentOrder.payment_order_id == text)]
    if "@" in text:
        matches.append(PaymentEvent.buyer_email_hash == lookup.email_hash(text))
    return or_(*matches)


def _where(query: PaymentQuery, statement: Select) -> Select:
    statement = statement.where(PaymentEvent.merchant_id == query.merchant_id)
    text = (query.text or "").strip()
    if text:
        statement = statement.where(_text_matches(text))
    if query.status is not None:
        rule = CRITERIA[query.status]
        statement = statement.where(PaymentEvent.status.in_([s.value for s in rule.statuses]))
        if rule.failure_code is not None:
            statement = statement.where(PaymentEvent.failure_code == rule.failure_code)
        if rule.exclude_failure_code is not None:
            statement = statement.where(or_(PaymentEvent.failure_code.is_(None),
                                            PaymentEvent.failure_code != rule.exclude_failure_code))
        if rule.recent is not None:
            cutoff = utcnow() - query.abandoned_after
            statement = statement.where(PaymentEvent.updated_at > cutoff if rule.recent
                                        else PaymentEvent.updated_at <= cutoff)
    if query.created_from is not None:
        statement = statement.where(PaymentEvent.created_at >= datetime.combine(query.created_from, time(), UTC))
    if query.created_to is not None:
        end = datetime.combine(query.created_to + timedelta(days=1), time(), UTC)
        statement = statement.where(PaymentEvent.created_at < end)
    if query.seller_account_id:
        statement = statement.where(exists().where(PaymentOrder.payment_event_id == PaymentEvent.id,
                                                   PaymentOrder.seller_account_id == query.seller_account_id))
    if query.amount_min is not None:
        statement = statement.where(PaymentEvent.amount_total >= _in_minor(query.amount_min))
    if query.amount_max is not None:
        statement = statement.where(PaymentEvent.amount_total <= _in_minor(query.amount_max))
    return statement


def refunded(payment_event_ids: list[str]) -> dict[str, int]:
    """What was refunded (or is being refunded) of each payment, in its currency's minor units."""
    if not payment_event_ids:
        return {}
    return {str(pid): int(total) for pid, total in db.session.execute(
        select(Refund.payment_event_id, func.sum(Refund.amount))
        .where(Refund.payment_event_id.in_(payment_event_ids), Refund.status.in_(_COUNTED_REFUNDS))
        .group_by(Refund.payment_event_id))}


def _ordered(query: PaymentQuery) -> Select:
    return _where(query, select(PaymentEvent)).order_by(PaymentEvent.created_at.desc(), PaymentEvent.id.desc())


def page(query: PaymentQuery, limit: int, starting_after: str | None = None) -> Page:
    """One statement: the keyset page with what the list shows of each payment, its orders counted and its
    refunds summed in subqueries (loading the orders to count them had been most of the page's work), and the
    cursor's position looked up inside it."""
    order_count = select(func.count()).where(PaymentOrder.payment_event_id == PaymentEvent.id).scalar_subquery()
    refunded = select(cast(func.coalesce(func.sum(Refund.amount), 0), BigInteger)).where(
        Refund.payment_event_id == PaymentEvent.id, Refund.status.in_(_COUNTED_REFUNDS)).scalar_subquery()
    statement = _where(query, select(
        PaymentEvent.id, PaymentEvent.checkout_id, PaymentEvent.created_at, PaymentEvent.updated_at,
        PaymentEvent.status, PaymentEvent.failure_code, PaymentEvent.amount_total, PaymentEvent.currency,
        order_count.label("order_count"), refunded.label("refunded")))
    if starting_after:
        cursor = aliased(PaymentEvent)
        position = select(cursor.created_at).where(cursor.merchant_id == query.merchant_id,
                                                   cursor.id == starting_after).scalar_subquery()
        statement = statement.where(tuple_(PaymentEvent.created_at, PaymentEvent.id) < tuple_(position, starting_after))
    rows = db.session.execute(statement.order_by(PaymentEvent.created_at.desc(), PaymentEvent.id.desc())
                              .limit(limit + 1)).all()
    if not rows and starting_after and db.session.scalar(select(PaymentEvent.id).where(
            PaymentEvent.merchant_id == query.merchant_id, PaymentEvent.id == starting_after)) is None:
        raise ValidationError(f"No such payment: {starting_after!r}.", param="starting_after")
    return Page(list(rows[:limit]), len(rows) > limit)


def batches(query: PaymentQuery, size: int = EXPORT_BATCH) -> Iterator[tuple[list[PaymentEvent], dict[str, int]]]:
    """Every match, `size` at a time, each batch its own keyset query: memory stays flat however many rows
    match, and no cursor is held open between batches."""
    last: tuple[datetime, str] | None = None
    while True:
        statement = _ordered(query).options(selectinload(PaymentEvent.orders)).limit(size)
        if last is not None:
            statement = statement.where(tuple_(PaymentEvent.created_at, PaymentEvent.id) < last)
        rows = list(db.session.scalars(statement))
        if not rows:
            return
        yield rows, refunded([p.id for p in rows])
        last = (rows[-1].created_at, rows[-1].id)
        db.session.expunge_all()  # the batch's objects are written out; do not keep them in the identity map
        if len(rows) < size:
            return


def count(query: PaymentQuery) -> int:
    return int(db.session.scalar(_where(query, select(func.count()).select_from(PaymentEvent))) or 0)

