"""Pressing Pay on the checkout page: start the checkout's next attempt, or say where the buyer already is.

A press is on the pay-in's hot path (one per buyer, and again on every retry), so it is written as few statements:
a conditional UPDATE that locks the checkout and starts the attempt, then one statement writing the orders' status,
the activity row and the outbox row for the executor (PostgreSQL; three on SQLite). Nothing is read back after the
commit: the UPDATE returns what the live status message and the answer need. The statements are Core ones, run on
the session's connection (the ORM's execution layer has nothing to add to them), and the executor is woken by the
process's wake-up thread after the commit, so the press does not wait for Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import Table, and_, bindparam, insert, select, update

from webapp.dbengine import insert_or_ignore
from webapp.dbtypes import utcnow
from webapp.domain.payments import OrderStatus, can_start_attempt
from webapp.extensions import db
from webapp.models import OutboxMessage, PaymentActivity, PaymentEvent, PaymentOrder
from webapp.services import live, outbox, wakeups
from webapp.services.checkout import REGISTER_TOPIC, state_of, status_message


@dataclass(frozen=True)
class Press:
    """Where pressing Pay left the checkout: its status, and the PSP's page when one is open."""

    status: OrderStatus
    psp_session_url: str | None


_STARTABLE = [status.value for status in OrderStatus if can_start_attempt(status)]


@cache
def _start_statement():
    """Start the next attempt if one may start: one conditional UPDATE takes the row lock and decides, so a
    concurrent press waits for this one and then finds the attempt started (as SELECT … FOR UPDATE did)."""
    e = cast(Table, PaymentEvent.__table__)
    waiting = and_(e.c.status == OrderStatus.NOT_STARTED.value, e.c.attempt > 0)  # registering: wait for it
    return (update(e).where(e.c.id == bindparam("checkout"), e.c.status.in_(_STARTABLE), ~waiting)
            .values(attempt=e.c.attempt + 1, status=OrderStatus.NOT_STARTED.value, failure_code=None,
                    psp_session_url=None, updated_at=bindparam("now"))
            .returning(e.c.id, e.c.status, e.c.attempt, e.c.psp_session_url, e.c.failure_code, e.c.success_url))


@cache
def _attempt_statements(dialect: str) -> tuple:
    """What a new attempt writes: its orders back to NOT_STARTED, the activity row and the outbox row asking the
    executor to register it with the PSP. On PostgreSQL one statement (the first two as data-modifying CTEs), on
    SQLite three; the outbox INSERT returns the row's id when it was inserted."""
    order_table = cast(Table, PaymentOrder.__table__)
    orders = (update(order_table)
              .where(order_table.c.payment_event_id == bindparam("checkout"),
                     order_table.c.status != OrderStatus.NOT_STARTED.value)
              .values(status=OrderStatus.NOT_STARTED.value, updated_at=bindparam("now")))
    note = insert(cast(Table, PaymentActivity.__table__)).values(payment_event_id=bindparam("checkout"), kind="attempt",
                                                    detail=bindparam("detail"), created_at=bindparam("now"))
    outbox_table = OutboxMessage.__table__
    register = (insert_or_ignore(outbox_table, dialect).values({name: bindparam(f"outbox_{name}") for name in _OUTBOX})
                .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(outbox_table.c.id))
    if dialect == "postgresql":
        return (register.add_cte(orders.cte("orders"), note.cte("note")),)
    return orders, note, register


_OUTBOX = tuple(outbox.row("", ""))


def request_payment(payment_event_id: str) -> Press | None:
    """The buyer pressed Pay (or Try again). Starts a new attempt when none is usable; idempotent otherwise.
    None: no such checkout."""
    now = utcnow()
    connection = db.session.connection()
    started = connection.execute(_start_statement(), {"checkout": payment_event_id, "now": now}).first()
    if started is None:  # an open session is reused; one being registered is waited for
        found = connection.execute(select(PaymentEvent.status, PaymentEvent.psp_session_url)
                                   .where(PaymentEvent.id == payment_event_id)).first()
        db.session.commit()
        return None if found is None else Press(OrderStatus(found.status), found.psp_session_url)
    job = outbox.row(REGISTER_TOPIC, f"register:{payment_event_id}:{started.attempt}",
                     {"event": payment_event_id, "attempt": started.attempt})
    params = {"checkout": payment_event_id, "now": now, "detail": f"Buyer pressed Pay: attempt {started.attempt}",
              **{f"outbox_{name}": value for name, value in job.items()}}
    *writes, register = _attempt_statements(connection.dialect.name)
    for statement in writes:
        connection.execute(statement, params)
    registered = connection.execute(register, params).first() is not None
    # Registering the new attempt has not been tried yet, so it is not being retried.
    live.publish_after_commit(payment_event_id, status_message(started, state_of(started, retrying=False)))
    db.session.commit()
    if registered:
        wakeups.wake_soon(REGISTER_TOPIC)
    return Press(OrderStatus.NOT_STARTED, None)
