"""Reads behind the admin's Payments pages: a search across merchants and one payment's whole story.

`search()` finds checkouts by any id an operator may hold (our payment id, the merchant's checkout id, a PSP
session, payment intent, charge, refund, transfer or payout id, our refund or payout id) or by the buyer's email
(through its keyed lookup hash: emails are stored only encrypted), filtered by status, merchant and creation day,
newest first, a page at a time (keyset on (created_at, id)).

`timeline()` gathers what happened to one payment: its activity, the PSP events applied to it, the outbox work
it caused, its refunds, its ledger entries and the audited actions on it, in time order.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import selectinload

from webapp.domain.errors import ValidationError
from webapp.domain.payments import OrderStatus
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    LedgerEntry,
    Merchant,
    OutboxMessage,
    PaymentActivity,
    PaymentEvent,
    Payout,
    PayoutItem,
    PspCharge,
    PspEvent,
    PspSession,
    Refund,
)
from webapp.services import crypto, lookup
from webapp.services.pipeline_reads import pairs

PAGE = 50


@dataclass(frozen=True)
class PaymentQuery:
    text: str | None = None          # an id of any kind, or a buyer's email
    status: OrderStatus | None = None
    merchant_id: str | None = None
    since: date | None = None        # UTC days, inclusive
    until: date | None = None


@dataclass(frozen=True)
class PaymentPage:
    payments: list[PaymentEvent]
    merchants: dict[str, str]
    next_cursor: str | None


def encode_cursor(event: PaymentEvent) -> str:
    return base64.urlsafe_b64encode(json.dumps([event.created_at.isoformat(), event.id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, payment_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(payment_id)
    except (ValueError, TypeError):
        raise ValidationError("This page link is damaged: start the search again.", param="after")


def _ids_for(text: str):
    """Payment ids that any id of ours or the PSP's equal to `text` leads to."""
    return union(
        select(PaymentEvent.id).where(or_(PaymentEvent.id == text, PaymentEvent.checkout_id == text,
                                          PaymentEvent.psp_session_id == text)),
        select(PspSession.payment_event_id).where(or_(PspSession.id == text, PspSession.payment_intent_id == text)),
        select(PspCharge.payment_event_id).where(or_(PspCharge.id == text, PspCharge.payment_intent_id == text,
                                                     PspCharge.balance_transaction_id == text)),
        select(Refund.payment_event_id).where(or_(Refund.id == text, Refund.psp_refund_id == text)),
        select(PayoutItem.payment_event_id).join(Payout, Payout.id == PayoutItem.payout_id)
        .where(PayoutItem.payment_event_id.is_not(None),
               or_(Payout.id == text, Payout.psp_payout_id == text, Payout.psp_transfer_id == text)),
    )


def search(query: PaymentQuery, *, after: str | None = None, limit: int = PAGE) -> PaymentPage:
    statement = select(PaymentEvent)
    text = (query.text or "").strip()
    if "@" in text:
        statement = statement.where(PaymentEvent.buyer_email_hash == lookup.email_hash(text))
    elif text:
        statement = statement.where(PaymentEvent.id.in_(_ids_for(text).scalar_subquery()))
    if query.status:
        statement = statement.where(PaymentEvent.status == query.status.value)
    if query.merchant_id:
        statement = statement.where(PaymentEvent.merchant_id == query.merchant_id)
    if query.since:
        statement = statement.where(PaymentEvent.created_at >= datetime.combine(query.since, time(), UTC))
    if query.until:
        statement = statement.where(PaymentEvent.created_at < datetime.combine(query.until + timedelta(days=1),
                                                                               time(), UTC))
    if after:
        at, payment_id = decode_cursor(after)
        statement = statement.where(or_(PaymentEvent.created_at < at,
                                        and_(PaymentEvent.created_at == at, PaymentEvent.id < payment_id)))
    rows = list(db.session.scalars(statement.options(selectinload(PaymentEvent.orders))
                                   .order_by(PaymentEvent.created_at.desc(), PaymentEvent.id.desc())
                                   .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    names = pairs(db.session.execute(select(Merchant.id, Merchant.name)
                                    .where(Merchant.id.in_({r.merchant_id for r in rows})))) if rows else {}
    return PaymentPage(rows, names, encode_cursor(rows[-1]) if more and rows else None)


@dataclass(frozen=True)
class Moment:
    """One line of a payment's timeline."""

    at: datetime
    kind: str       # activity | psp_event | outbox | refund | ledger | audit
    title: str
    detail: str = ""
    ref: str = ""   # an id to show (and link where the page knows how)


@dataclass
class Timeline:
    payment: PaymentEvent
    merchant: Merchant
    buyer_email: str
    sessions: list[PspSession]
    charge: PspCharge | None
    refunds: list[Refund]
    events: list[PspEvent]
    jobs: list[OutboxMessage]
    entries: list[LedgerEntry]
    audits: list[AuditEntry]
    moments: list[Moment] = field(default_factory=list)


def _jobs(payment: PaymentEvent, sessions: list[PspSession], refunds: list[Refund]) -> list[OutboxMessage]:
    """Outbox rows caused by the payment, by the dedupe keys its topics use (register:<payment>:<attempt>,
    psp_fee:<payment>, sync:<session>:<bucket>, refund:<refund>)."""
    keys = [OutboxMessage.dedupe_key.like(f"register:{payment.id}:%"),
            OutboxMessage.dedupe_key == f"psp_fee:{payment.id}"]
    keys += [OutboxMessage.dedupe_key.like(f"sync:{s.id}:%") for s in sessions]
    keys += [OutboxMessage.dedupe_key == f"refund:{r.id}" for r in refunds]
    return list(db.session.scalars(select(OutboxMessage).where(or_(*keys)).order_by(OutboxMessage.id)))


def _events(payment: PaymentEvent, sessions: list[PspSession], charge: PspCharge | None,
            refunds: list[Refund]) -> list[PspEvent]:
    """PSP events about the payment's objects, and any its activity names."""
    objects = {s.id for s in sessions} | {s.payment_intent_id for s in sessions if s.payment_intent_id}
    objects |= {r.psp_refund_id for r in refunds if r.psp_refund_id}
    if charge is not None:
        objects |= {charge.id, charge.payment_intent_id}
    named = select(PaymentActivity.psp_event_id).where(PaymentActivity.payment_event_id == payment.id,
                                                       PaymentActivity.psp_event_id.is_not(None))
    return list(db.session.scalars(select(PspEvent).where(or_(PspEvent.object_id.in_(objects),
                                                              PspEvent.id.in_(named.scalar_subquery())))
                                   .order_by(PspEvent.received_at, PspEvent.id)))


def timeline(payment_id: str) -> Timeline | None:
    payment = db.session.get(PaymentEvent, payment_id)
    if payment is None:
        return None
    sessions = list(payment.sessions)
    charge = db.session.scalar(select(PspCharge).where(PspCharge.payment_event_id == payment.id))
    refunds = list(db.session.scalars(select(Refund).where(Refund.payment_event_id == payment.id)
                                      .order_by(Refund.created_at)))
    entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.payment_event_id == payment.id)
                                      .options(selectinload(LedgerEntry.postings)).order_by(LedgerEntry.id)))
    targets = [and_(AuditEntry.target_type == "refund", AuditEntry.target_id.in_([r.id for r in refunds])),
               and_(AuditEntry.target_type == "payment", AuditEntry.target_id == payment.id)]
    audits = list(db.session.scalars(select(AuditEntry).where(or_(*targets)).order_by(AuditEntry.id)))
    found = Timeline(payment, payment.merchant, crypto.decrypt(payment.buyer_email_enc), sessions, charge, refunds,
                     _events(payment, sessions, charge, refunds), _jobs(payment, sessions, refunds), entries, audits)
    found.moments = _moments(found)
    return found


def _moments(found: Timeline) -> list[Moment]:
    payment = found.payment
    moments = [Moment(payment.created_at, "activity", "Payment created", f"{payment.currency} "
                      f"{payment.amount_total} minor units, {len(payment.orders)} order(s)", payment.id)]
    for row in db.session.scalars(select(PaymentActivity).where(PaymentActivity.payment_event_id == payment.id)
                                  .order_by(PaymentActivity.id)):
        moments.append(Moment(row.created_at, "activity", row.kind.replace("_", " ").capitalize(), row.detail,
                              row.psp_event_id or ""))
    for event in found.events:
        state = event.result or ("waiting" if event.processed_at is None else "applied")
        moments.append(Moment(event.received_at, "psp_event", f"PSP event {event.type}", f"result: {state}",
                              event.id))
    for job in found.jobs:
        moments.append(Moment(job.created_at, "outbox", f"Job {job.topic}",
                              f"{job.status}, {job.attempts} attempt(s)"
                              + (f": {job.last_error}" if job.last_error else ""), str(job.id)))
    for refund in found.refunds:
        moments.append(Moment(refund.created_at, "refund", f"Refund {refund.status}",
                              f"{refund.amount} minor units ({refund.source})", refund.id))
    for entry in found.entries:
        moments.append(Moment(entry.created_at, "ledger", f"Ledger entry {entry.kind}", entry.memo, entry.key))
    for audit in found.audits:
        moments.append(Moment(audit.at, "audit", f"{audit.action} by {audit.actor}", audit.detail,
                              str(audit.id)))
    return sorted(moments, key=lambda m: m.at)
