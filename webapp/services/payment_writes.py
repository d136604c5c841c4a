"""Writing a new checkout and its payment orders: the merchant API's hot path.

On PostgreSQL one statement does it all, in one round trip committed by itself (webapp.dbdirect): it finds each
order's seller account (by id, or by IBAN, among this merchant's accounts), inserts the checkout only when every
order found an active account in its currency, and inserts the orders from those rows. When it inserts nothing (a
seller refused, or the checkout_id already used) the caller takes the session path, which says exactly why: the
same 400 naming the order, the repeat, or the conflict. SQLite takes the session path with Core statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import Column, Executable, TypeDecorator, bindparam, text

from webapp import dbdirect
from webapp.dbengine import insert_or_ignore
from webapp.dbtypes import new_id, utcnow
from webapp.domain.payment_requests import CreatePayment
from webapp.domain.payments import OrderStatus
from webapp.domain.sellers import iban_or_none
from webapp.extensions import db
from webapp.models import PaymentEvent, PaymentOrder
from webapp.ops import metrics_flow
from webapp.ops.metrics_flow import Flow
from webapp.services import crypto, lookup

NEW = OrderStatus.NOT_STARTED.value  # a new checkout and its orders (payment_events shares the statuses)


@dataclass(frozen=True)
class NewPayment:
    """A checkout this request created: everything its answer needs, without reading it back."""

    id: str
    command: CreatePayment
    seller_ids: tuple[str, ...]
    created_at: datetime


def _event_values(merchant_id: str, command: CreatePayment, now: datetime) -> dict:
    """Every column of the new payment_events row (a test holds this to the table's columns)."""
    return {
        "id": new_id("pay", 24), "merchant_id": merchant_id, "checkout_id": command.checkout_id,
        "request_hash": command.request_hash, "currency": command.currency, "amount_total": command.total.minor,
        "status": NEW, "attempt": 0, "buyer_email_enc": crypto.encrypt(command.buyer_email),
        "buyer_email_hash": lookup.email_hash(command.buyer_email),
        "buyer_name_enc": crypto.encrypt_optional(command.buyer_name), "success_url": command.success_url,
        "cancel_url": command.cancel_url, "psp_session_id": None, "psp_session_url": None, "failure_code": None,
        "sync_due_at": None, "created_at": now, "updated_at": now,
    }


def _flows(new: NewPayment) -> list[tuple[Flow, str, str, int]]:
    """What the money-flow metrics count for a new checkout: (flow, object, currency, amount) of it and its orders."""
    return [(Flow.PAYMENT, new.id, new.command.currency, new.command.total.minor),
            *((Flow.PAYMENT_ORDER, f"{new.id}:{index}", order.amount.currency, order.amount.minor)
              for index, order in enumerate(new.command.orders))]


# PostgreSQL: the one statement.

_SQL_TYPES = {str: "text", int: "bigint", bool: "boolean", datetime: "timestamptz"}


def _sql_type(column: Column) -> str:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    return _SQL_TYPES[kind.python_type]


@cache
def _one_statement() -> str:
    """Built once per process. Parameters are cast to their columns' base types (never to varchar(n), which would
    truncate: a value too long for its column must fail as it does on the session path). The orders travel as one
    JSON parameter: the text is the same for any number of orders (psycopg prepares it once per connection), and
    psycopg adapts one string instead of seven arrays, which had cost as much as the round trip."""
    columns = list(PaymentEvent.__table__.columns)
    names = ", ".join(column.name for column in columns)
    values = ", ".join(f"%({column.key})s::{_sql_type(column)}" for column in columns)
    return f"""
WITH requested AS (
    SELECT * FROM json_to_recordset(%(orders)s::json)
        AS r(id text, payment_order_id text, ref text, iban text, amount bigint, currency text, description text,
             position integer)
), resolved AS (
    SELECT r.*, s.id AS seller_account_id
    FROM requested r
    CROSS JOIN LATERAL (
        SELECT id, status, currency FROM seller_accounts
        WHERE merchant_id = %(merchant_id)s::text AND (id = r.ref OR iban = r.iban)
        ORDER BY id = r.ref DESC LIMIT 1) s
    WHERE s.status = 'active' AND s.currency = r.currency
), event AS (
    INSERT INTO payment_events ({names})
    SELECT {values} WHERE (SELECT count(*) FROM resolved) = %(order_count)s::bigint
    ON CONFLICT (merchant_id, checkout_id) DO NOTHING
    RETURNING id
), orders AS (
    INSERT INTO payment_orders (id, payment_event_id, payment_order_id, position, seller_account_id, amount,
                                currency, description, status, ledger_updated, wallet_updated, created_at, updated_at)
    SELECT r.id, event.id, r.payment_order_id, r.position, r.seller_account_id, r.amount, r.currency,
           r.description, %(status)s::text, false, false, %(created_at)s::timestamptz, %(created_at)s::timestamptz
    FROM resolved r CROSS JOIN event
)
SELECT ARRAY(SELECT seller_account_id FROM resolved ORDER BY position) FROM event"""  # noqa: S608 (names from the model)


def insert_at_once(merchant_id: str, command: CreatePayment) -> NewPayment | None:
    """PostgreSQL: the checkout and its orders in one statement, committed; None when it inserted nothing (a
    seller refused or the checkout_id taken: the session path tells which)."""
    now = utcnow()
    event = _event_values(merchant_id, command, now)
    orders = command.orders
    rows = [{"id": new_id("po"), "payment_order_id": order.payment_order_id, "ref": order.seller_ref,
             "iban": iban_or_none(order.seller_ref), "amount": order.amount.minor, "currency": order.amount.currency,
             "description": order.description, "position": index} for index, order in enumerate(orders)]
    params = {**event, "order_count": len(orders), "orders": json.dumps(rows)}
    row = dbdirect.fetch_one(_one_statement(), params)
    if row is None:
        return None
    new = NewPayment(event["id"], command, tuple(row[0]), now)
    for flow, _, currency, amount in _flows(new):
        metrics_flow.committed(flow, NEW, currency, amount)
    return new


# The session path (SQLite, and PostgreSQL when the statement above inserted nothing).

@cache
def _event_insert(dialect_name: str) -> Executable:
    """Built once per process: every request binds only its values, so SQLAlchemy finds the compiled form in its
    cache instead of rebuilding and compiling a statement of 18 columns."""
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


def insert_in_session(merchant_id: str, command: CreatePayment, seller_ids: list[str]) -> NewPayment | None:
    """The checkout and its orders with Core INSERTs in the session's transaction (not committed); None when the
    checkout_id already exists."""
    now = utcnow()
    event = _event_values(merchant_id, command, now)
    if db.session.execute(_event_insert(db.engine.dialect.name), event).first() is None:
        return None
    params = {}
    for index, (order, seller_id) in enumerate(zip(command.orders, seller_ids, strict=True)):
        params.update({
            f"id_{index}": new_id("po"), f"payment_event_id_{index}": event["id"],
            f"payment_order_id_{index}": order.payment_order_id, f"position_{index}": index,
            f"seller_account_id_{index}": seller_id, f"amount_{index}": order.amount.minor,
            f"currency_{index}": order.amount.currency, f"description_{index}": order.description,
            f"status_{index}": NEW, f"ledger_updated_{index}": False, f"wallet_updated_{index}": False,
            f"created_at_{index}": now, f"updated_at_{index}": now})
    db.session.execute(_orders_insert(len(command.orders)), params)
    new = NewPayment(event["id"], command, tuple(seller_ids), now)
    for flow, object_id, currency, amount in _flows(new):
        metrics_flow.reached(flow, object_id, NEW, currency, amount)
    return new
