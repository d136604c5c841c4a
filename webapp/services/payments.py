"""Creating and reading payments (checkouts) for the merchant API."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import Executable, bindparam, or_, select, text
from sqlalchemy.orm import selectinload

from webapp.dbengine import insert_or_ignore
from webapp.dbtypes import new_id, utcnow
from webapp.domain.errors import Conflict, NotFound, ValidationError
from webapp.domain.payment_requests import CreatePayment
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder, SellerAccount
from webapp.ops import metrics_flow
from webapp.ops.metrics_flow import Flow
from webapp.services import crypto, idempotency, lookup


class CheckoutConflict(Conflict):
    code = "checkout_id_conflict"


def _iban_or_none(ref: str) -> str | None:
    try:
        return IBAN(ref).compact
    except SchwiftyException:
        return None


_SELLERS = SellerAccount.__table__


@cache
def _seller_lookup() -> Executable:
    """Built once: the four columns the checks need, by id or IBAN (a Core statement: no ORM objects)."""
    return select(_SELLERS.c.id, _SELLERS.c.iban, _SELLERS.c.status, _SELLERS.c.currency).where(
        _SELLERS.c.merchant_id == bindparam("merchant_id"),
        or_(_SELLERS.c.id.in_(bindparam("refs", expanding=True)),
            _SELLERS.c.iban.in_(bindparam("ibans", expanding=True))))


def _resolve_sellers(merchant_id: str, command: CreatePayment) -> list[str]:
    """Each order's seller account id, by id or IBAN; unknown, disabled and others' accounts are refused alike."""
    refs = [order.seller_ref for order in command.orders]
    ibans = {ref: iban for ref in refs if (iban := _iban_or_none(ref))}
    found = db.session.execute(_seller_lookup(), {"merchant_id": merchant_id, "refs": refs,
                                                  "ibans": list(ibans.values())}).all()
    by_id = {row.id: row for row in found}
    by_iban = {row.iban: row for row in found}
    sellers = []
    for index, order in enumerate(command.orders):
        param = f"payment_orders[{index}][seller_account]"
        seller = by_id.get(order.seller_ref) or by_iban.get(ibans.get(order.seller_ref, ""))
        if seller is None:
            raise ValidationError(f"No such seller account: {order.seller_ref!r}.", param=param,
                                  code="resource_missing")
        if seller.status != "active":
            raise ValidationError(f"Seller account {seller.id} is disabled and cannot receive payments.",
                                  param=param, code="seller_account_disabled")
        if seller.currency != order.amount.currency:
            raise ValidationError(f"Seller account {seller.id} is paid in {seller.currency}, not "
                                  f"{order.amount.currency}.", param=f"payment_orders[{index}][currency]",
                                  code="currency_mismatch")
        sellers.append(seller.id)
    return sellers


def _by_checkout_id(merchant_id: str, checkout_id: str) -> PaymentEvent | None:
    return db.session.scalar(select(PaymentEvent).where(
        PaymentEvent.merchant_id == merchant_id, PaymentEvent.checkout_id == checkout_id))


def _same_or_conflict(existing: PaymentEvent, command: CreatePayment) -> PaymentEvent:
    if existing.request_hash != command.request_hash:
        raise CheckoutConflict(f"A payment with checkout_id {command.checkout_id!r} already exists with different "
                               "parameters.", param="checkout_id")
    return existing


@cache
def _event_insert(dialect_name: str) -> Executable:
    """Built once per process: every request binds only its values, so SQLAlchemy finds the compiled form in its
    cache instead of rebuilding and compiling a statement of 17 columns."""
    events = PaymentEvent.__table__
    return (insert_or_ignore(events, dialect_name)
            .on_conflict_do_nothing(index_elements=["merchant_id", "checkout_id"]).returning(events.c.id))


@lru_cache(maxsize=128)
def _orders_insert(count: int) -> Executable:
    """One multi-row INSERT for `count` orders (one round trip, no executemany pipeline), built once per size.
    Written as text with typed parameters: SQLAlchemy does not cache a multi-row `insert().values()`, and
    compiling it anew cost more than executing it."""
    columns = list(PaymentOrder.__table__.columns)
    names = ", ".join(column.name for column in columns)  # the model's own column names, never input
    rows = ", ".join("(" + ", ".join(f":{column.key}_{index}" for column in columns) + ")" for index in range(count))
    return text(f"INSERT INTO payment_orders ({names}) VALUES {rows}").bindparams(  # noqa: S608
        *(bindparam(f"{column.key}_{index}", type_=column.type) for index in range(count) for column in columns))


def _row(record: object, table) -> dict:
    return {column.key: getattr(record, column.key) for column in table.columns}


def _insert(merchant_id: str, command: CreatePayment, seller_ids: list[str]) -> PaymentEvent | None:
    """Insert the checkout and its orders with plain Core INSERTs (this is the API's hot path); None when the
    checkout_id already exists. The returned objects are transient: they only feed the response."""
    now = utcnow()
    event = PaymentEvent(
        id=new_id("pay", 24), merchant_id=merchant_id, checkout_id=command.checkout_id,
        request_hash=command.request_hash, currency=command.currency, amount_total=command.total.minor,
        status="NOT_STARTED", attempt=0, buyer_email_enc=crypto.encrypt(command.buyer_email),
        buyer_email_hash=lookup.email_hash(command.buyer_email),
        buyer_name_enc=crypto.encrypt_optional(command.buyer_name), success_url=command.success_url,
        cancel_url=command.cancel_url, psp_session_id=None, psp_session_url=None, failure_code=None,
        created_at=now, updated_at=now,
    )
    orders = [
        PaymentOrder(id=new_id("po"), payment_event_id=event.id, payment_order_id=o.payment_order_id, position=i,
                     seller_account_id=seller_id, amount=o.amount.minor, currency=o.amount.currency,
                     description=o.description, status="NOT_STARTED", ledger_updated=False, wallet_updated=False,
                     created_at=now, updated_at=now)
        for i, (o, seller_id) in enumerate(zip(command.orders, seller_ids, strict=True))
    ]
    if db.session.execute(_event_insert(db.engine.dialect.name), _row(event, PaymentEvent.__table__)).first() is None:
        return None
    params = {f"{key}_{index}": value for index, order in enumerate(orders)
              for key, value in _row(order, PaymentOrder.__table__).items()}
    db.session.execute(_orders_insert(len(orders)), params)
    event.orders = orders
    metrics_flow.reached(Flow.PAYMENT, event.id, event.status, event.currency, event.amount_total)
    for order in orders:
        metrics_flow.reached(Flow.PAYMENT_ORDER, order.id, order.status, order.currency, order.amount)
    return event


def _create_or_existing(merchant_id: str, command: CreatePayment) -> tuple[PaymentEvent, bool]:
    try:
        seller_ids = _resolve_sellers(merchant_id, command)
    except ValidationError:
        existing = _by_checkout_id(merchant_id, command.checkout_id)
        if existing is not None:  # a repeat of a checkout made before its seller changed
            return _same_or_conflict(existing, command), False
        raise
    event = _insert(merchant_id, command, seller_ids)
    if event is None:
        # The checkout_id exists (made earlier, or a moment ago by a concurrent request): a repeat, or a conflict.
        existing = _by_checkout_id(merchant_id, command.checkout_id)
        assert existing is not None
        return _same_or_conflict(existing, command), False
    return event, True


Buyer = tuple[str, str | None]


def create(merchant_id: str, command: CreatePayment, idempotency_key: str | None,
           render: Callable[[PaymentEvent, Buyer | None], dict]) -> idempotency.StoredResponse:
    """Create the checkout and its payment orders in one transaction: 201 when new, 200 for a repeat of the
    same `checkout_id` and body, 409 when the same `checkout_id` comes with a different body. `render` gets
    the buyer's email and name in clear for a payment created now (no need to decrypt what was just encrypted),
    None for an existing one."""

    def action() -> tuple[int, dict]:
        event, created = _create_or_existing(merchant_id, command)
        if created:
            return 201, render(event, (command.buyer_email, command.buyer_name))
        return 200, render(event, None)

    return idempotency.run(merchant_id, idempotency_key, "POST /v1/payments", command.request_hash, action)


def get(merchant_id: str, checkout_id: str) -> PaymentEvent:
    """The merchant's payment by its checkout_id; another merchant's looks exactly like a missing one."""
    event = db.session.scalar(
        select(PaymentEvent).options(selectinload(PaymentEvent.orders))
        .where(PaymentEvent.merchant_id == merchant_id, PaymentEvent.checkout_id == checkout_id))
    if event is None:
        raise NotFound(f"No such payment: {checkout_id!r}.", param="checkout_id")
    return event
