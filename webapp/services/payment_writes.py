"""Writing a new checkout and its payment orders: the merchant API's hot path.

On PostgreSQL one statement does it all, in one round trip committed by itself (webapp.dbdirect): it finds each
order's seller account (by id, or by IBAN, among this merchant's accounts), inserts the checkout only when every
order found an active account in its currency, and inserts the orders from those rows. When it inserts nothing (a
seller refused, or the checkout_id already used) the caller takes the session path, which says exactly why: the
same 400 naming the order, the repeat, or the conflict. SQLite takes the session path with Core statements.

With an Idempotency-Key the same statement also claims the key and stores the answer on it (201, rendered before
the statement: every id is made here), so the key's answer and the checkout commit together, or neither does; a
crash can leave no key in flight. When it inserts nothing it returns the key's row as it saw it, for the caller
to replay or refuse (webapp.services.idempotency), or to take the session path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import ColumnElement, Executable, TypeDecorator, bindparam, text
from sqlalchemy.exc import IntegrityError

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
from webapp.services import crypto, idempotency, lookup

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


def _sql_type(column: ColumnElement) -> str:
    kind = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    return _SQL_TYPES[kind.python_type]


_RESOLVED = """WITH requested AS (
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
)"""

_ORDERS = """orders AS (
    INSERT INTO payment_orders (id, payment_event_id, payment_order_id, position, seller_account_id, amount,
                                currency, description, status, ledger_updated, wallet_updated, created_at, updated_at)
    SELECT r.id, event.id, r.payment_order_id, r.position, r.seller_account_id, r.amount, r.currency,
           r.description, %(status)s::text, false, false, %(created_at)s::timestamptz, %(created_at)s::timestamptz
    FROM resolved r CROSS JOIN event
)"""

# With an Idempotency-Key, the key is claimed (stored as done, with the answer) only when every seller was found and
# the checkout_id is free, and the checkout is inserted only when the key was claimed: the key's answer is committed
# with the checkout or not at all. A checkout_id inserted meanwhile by a concurrent request (which NOT EXISTS cannot
# see) makes the checkout's INSERT fail on its unique index, undoing the claim with it. The answer comes rendered
# with each order's seller as the request named it; a seller named by IBAN is put in as its id.
_CLAIM = """claim AS (
    INSERT INTO idempotency_keys (merchant_id, key, method_path, request_hash, state, response_status,
                                  response_body, created_at)
    SELECT %(merchant_id)s::text, %(key)s::text, %(scope)s::text, %(request_hash)s::text, %(done)s::text, 201,
           jsonb_set(a.answer, '{payment_orders}', (
               SELECT jsonb_agg(jsonb_set(o.value, '{seller_account}', to_jsonb(r.seller_account_id))
                                ORDER BY r.position)
               FROM jsonb_array_elements(a.answer -> 'payment_orders') WITH ORDINALITY AS o(value, n)
               JOIN resolved r ON r.position = o.n - 1))::text,
           %(created_at)s::timestamptz
    FROM (SELECT %(answer)s::jsonb AS answer) a
    WHERE (SELECT count(*) FROM resolved) = %(order_count)s::bigint AND NOT EXISTS (
        SELECT FROM payment_events WHERE merchant_id = %(merchant_id)s::text AND checkout_id = %(checkout_id)s::text)
    ON CONFLICT (merchant_id, key) DO NOTHING
    RETURNING id
)"""

# Always one row: the sellers' ids when the checkout was inserted (else NULL), and the key's row as the statement
# saw it (all NULL when it claimed the key, or saw no row).
_KEYED_RESULT = """
SELECT (SELECT ARRAY(SELECT seller_account_id FROM resolved ORDER BY position) FROM event),
       k.method_path, k.request_hash, k.state, k.response_status, k.response_body, k.created_at
FROM (VALUES (1)) AS one (n)
LEFT JOIN idempotency_keys k ON k.merchant_id = %(merchant_id)s::text AND k.key = %(key)s::text"""


@cache
def _one_statement(keyed: bool) -> str:
    """Built once per process. Parameters are cast to their columns' base types (never to varchar(n), which would
    truncate: a value too long for its column must fail as it does on the session path). The orders travel as one
    JSON parameter: the text is the same for any number of orders (psycopg prepares it once per connection), and
    psycopg adapts one string instead of seven arrays, which had cost as much as the round trip."""
    columns = list(PaymentEvent.__table__.columns)
    names = ", ".join(column.name for column in columns)
    values = ", ".join(f"%({column.key})s::{_sql_type(column)}" for column in columns)
    if keyed:
        return f"""{_RESOLVED}, {_CLAIM}, event AS (
    INSERT INTO payment_events ({names}) SELECT {values} FROM claim RETURNING id
), {_ORDERS}{_KEYED_RESULT}"""  # noqa: S608 (names from the model)
    return f"""{_RESOLVED}, event AS (
    INSERT INTO payment_events ({names})
    SELECT {values} WHERE (SELECT count(*) FROM resolved) = %(order_count)s::bigint
    ON CONFLICT (merchant_id, checkout_id) DO NOTHING
    RETURNING id
), {_ORDERS}
SELECT ARRAY(SELECT seller_account_id FROM resolved ORDER BY position) FROM event"""  # noqa: S608 (names from the model)


def _params(merchant_id: str, command: CreatePayment, now: datetime) -> dict:
    """The statement's parameters: the checkout's columns and its orders as one JSON document."""
    rows = [{"id": new_id("po"), "payment_order_id": order.payment_order_id, "ref": order.seller_ref,
             "iban": iban_or_none(order.seller_ref), "amount": order.amount.minor, "currency": order.amount.currency,
             "description": order.description, "position": index} for index, order in enumerate(command.orders)]
    return {**_event_values(merchant_id, command, now), "order_count": len(rows), "orders": json.dumps(rows)}


def _committed(new: NewPayment) -> NewPayment:
    for flow, _, currency, amount in _flows(new):
        metrics_flow.committed(flow, NEW, currency, amount)
    return new


def insert_at_once(merchant_id: str, command: CreatePayment) -> NewPayment | None:
    """PostgreSQL: the checkout and its orders in one statement, committed; None when it inserted nothing (a
    seller refused or the checkout_id taken: the session path tells which)."""
    now = utcnow()
    params = _params(merchant_id, command, now)
    row = dbdirect.fetch_one(_one_statement(False), params)
    if row is None:
        return None
    return _committed(NewPayment(params["id"], command, tuple(row[0]), now))


@dataclass(frozen=True)
class Claimed:
    """What the keyed statement did: the answer it stored on the key with the new checkout; or, having inserted
    nothing, the key's row as it found it (None: no row it could see)."""

    answer: dict | None
    found: idempotency.Recorded | None


def insert_claiming(merchant_id: str, command: CreatePayment, key: str, scope: str,
                    render: Callable[[NewPayment], dict]) -> Claimed:
    """PostgreSQL: claim the Idempotency-Key, insert the checkout and its orders and store the answer (201) on the
    key, in one statement, committed. Nothing is inserted when the key is taken, a seller refused or the
    checkout_id is taken (the caller answers from the key's row, or takes the session path)."""
    now = utcnow()
    params = _params(merchant_id, command, now)
    named = tuple(order.seller_ref for order in command.orders)
    answer = render(NewPayment(params["id"], command, named, now))
    params.update(key=key, scope=scope, done=idempotency.KeyState.DONE.value, answer=json.dumps(answer))
    try:
        row = dbdirect.fetch_one(_one_statement(True), params)
    except IntegrityError:
        # Nothing was written: the checkout_id was inserted by a concurrent request after this statement began
        # (the session path answers it as a repeat, and would raise any other constraint's error the same way).
        return Claimed(None, None)
    assert row is not None  # the last SELECT always returns one row
    if row[0] is None:
        return Claimed(None, None if row[3] is None else idempotency.Recorded(*row[1:]))
    new = _committed(NewPayment(params["id"], command, tuple(row[0]), now))
    return Claimed(answer if new.seller_ids == named else render(new), None)


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
