"""Creating and reading payments (checkouts) for the merchant API."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sqlalchemy import Executable, bindparam, or_, select
from sqlalchemy.orm import selectinload

from webapp import dbdirect
from webapp.domain.errors import Conflict, NotFound, ValidationError
from webapp.domain.payment_requests import CreatePayment
from webapp.domain.sellers import iban_or_none
from webapp.extensions import db
from webapp.models import PaymentEvent, SellerAccount
from webapp.services import idempotency, payment_writes
from webapp.services.payment_writes import NewPayment


class CheckoutConflict(Conflict):
    code = "checkout_id_conflict"


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
    ibans = {ref: iban for ref in refs if (iban := iban_or_none(ref))}
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


def _create_or_existing(merchant_id: str, command: CreatePayment) -> NewPayment | PaymentEvent:
    """The new checkout, or the existing one with this checkout_id and body (409 with another body)."""
    try:
        seller_ids = _resolve_sellers(merchant_id, command)
    except ValidationError:
        existing = _by_checkout_id(merchant_id, command.checkout_id)
        if existing is not None:  # a repeat of a checkout made before its seller changed
            return _same_or_conflict(existing, command)
        raise
    new = payment_writes.insert_in_session(merchant_id, command, seller_ids)
    if new is None:
        # The checkout_id exists (made earlier, or a moment ago by a concurrent request): a repeat, or a conflict.
        existing = _by_checkout_id(merchant_id, command.checkout_id)
        assert existing is not None
        return _same_or_conflict(existing, command)
    return new


SCOPE = "POST /v1/payments"  # what an Idempotency-Key of this endpoint is stored with


def _at_once(merchant_id: str, command: CreatePayment, idempotency_key: str | None,
             render_new: Callable[[NewPayment], dict]) -> idempotency.StoredResponse | None:
    """PostgreSQL: a new checkout in one committed statement, with its key's answer when there is a key; or the
    answer an earlier use of the key left. None for the session path."""
    if idempotency_key is None:
        new = payment_writes.insert_at_once(merchant_id, command)
        return None if new is None else idempotency.StoredResponse(201, render_new(new), False)
    claimed = payment_writes.insert_claiming(merchant_id, command, idempotency.checked(idempotency_key), SCOPE,
                                             render_new)
    if claimed.answer is not None:
        return idempotency.StoredResponse(201, claimed.answer, False)
    return idempotency.answer_found(claimed.found, idempotency_key, SCOPE, command.request_hash)


def create(merchant_id: str, command: CreatePayment, idempotency_key: str | None,
           render_new: Callable[[NewPayment], dict],
           render_existing: Callable[[PaymentEvent], dict]) -> idempotency.StoredResponse:
    """Create the checkout and its payment orders in one transaction: 201 when new, 200 for a repeat of the
    same `checkout_id` and body, 409 when the same `checkout_id` comes with a different body.

    On PostgreSQL a new checkout takes one committed statement, which also claims the Idempotency-Key (if any)
    and stores the answer on it (payment_writes); a repeat of a key is answered from the key's row that statement
    read. Anything else (a refused seller, a repeated checkout_id, a key claimed by a concurrent request, expired
    or abandoned; SQLite) goes through the session."""
    if dbdirect.available():
        answered = _at_once(merchant_id, command, idempotency_key, render_new)
        if answered is not None:
            return answered

    def action() -> tuple[int, dict]:
        found = _create_or_existing(merchant_id, command)
        if isinstance(found, NewPayment):
            return 201, render_new(found)
        return 200, render_existing(found)

    return idempotency.run(merchant_id, idempotency_key, SCOPE, command.request_hash, action)


def get(merchant_id: str, checkout_id: str) -> PaymentEvent:
    """The merchant's payment by its checkout_id; another merchant's looks exactly like a missing one."""
    event = db.session.scalar(
        select(PaymentEvent).options(selectinload(PaymentEvent.orders))
        .where(PaymentEvent.merchant_id == merchant_id, PaymentEvent.checkout_id == checkout_id))
    if event is None:
        raise NotFound(f"No such payment: {checkout_id!r}.", param="checkout_id")
    return event
