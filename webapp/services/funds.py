"""Money arriving in wallets: captures, the PSP's processing fee, and funds becoming available.

1. `record_capture()` runs inside `checkout.apply_outcome()`, in the transaction that moves a checkout's
   orders to SUCCESS: each order's capture entry (PSP balance pending ← amount; seller wallet pending →
   amount - platform fee; fee revenue → platform fee), `ledger_updated`/`wallet_updated` flipped, and an
   outbox row asking for the PSP's fee.
2. `BOOK_FEES` (outbox topic `ledger.psp_fee`) reads each charge's balance transaction through the
   SDK — outside any transaction, on a small thread pool — then records the charge and books its fee as an
   expense out of the pending PSP balance.
3. Funds become available when the PSP says so. The signal is the PSP's `balance.available` event: its
   `created` (PSP time) is a watermark, and every charge whose balance transaction's `available_on` is at or
   before it is available. The watermark only grows (a lost event is covered by the next one), and a charge
   recorded after the event is checked against it (or found `available` already, e.g. card …0077), so no
   order of events leaves money pending. `make_available_due()` (topic `ledger.available`) moves, per
   charge, its net from the PSP's pending to its available balance and each order's still-pending seller
   share from the pending to the available side of the wallet, in one entry.

Lock order, shared by every writer: the availability watermark row, then checkouts (sorted by id), then
ledger accounts (sorted by id, at commit; see services/ledger.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from webapp.dbtypes import utcnow
from webapp.domain import ledger as rules
from webapp.domain.money import Money
from webapp.domain.wallets import FeeSchedule, Funds, platform_fee
from webapp.extensions import db
from webapp.models import (
    Merchant,
    OrderFunds,
    PaymentActivity,
    PaymentEvent,
    PaymentOrder,
    PspAvailability,
    PspCharge,
    PspSession,
)
from webapp.psp import ChargeFunds, FundsAvailable, Psp, PspError
from webapp.services import audit, bulk, ledger, outbox
from webapp.services.ledger import Links
from webapp.services.outbox import BatchResult, Claimed
from webapp.services.psp_work import PspWork
from webapp.services.topics import Drain, Queue

log = logging.getLogger(__name__)

FEE_TOPIC = "ledger.psp_fee"
AVAILABLE_TOPIC = "ledger.available"
PLATFORM_ACCOUNT = "platform"
AVAILABILITY_CHUNK = 200
_SCHEDULES = "funds.fee_schedules"



def fee_schedule(merchant: Merchant) -> FeeSchedule:
    """The merchant's own platform fee, or the platform's default for what it has not set."""
    config = current_app.config
    bps = merchant.fee_bps if merchant.fee_bps is not None else config["PLATFORM_FEE_BPS"]
    fixed = merchant.fee_fixed_minor if merchant.fee_fixed_minor is not None else config["PLATFORM_FEE_FIXED_MINOR"]
    return FeeSchedule(int(bps), int(fixed))


def _schedule_of(merchant_id: str) -> FeeSchedule:
    """The merchant's fee schedule, read once per transaction (a batch of results often shares a merchant)."""
    cache = db.session.info.setdefault(_SCHEDULES, {})
    if merchant_id not in cache:
        merchant = db.session.get(Merchant, merchant_id)
        assert merchant is not None
        cache[merchant_id] = fee_schedule(merchant)
    return cache[merchant_id]


@event.listens_for(Session, "after_transaction_end")
def _forget_schedules(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SCHEDULES, None)


def _note(payment_event_id: str, kind: str, detail: str, psp_event_id: str | None = None) -> None:
    db.session.add(PaymentActivity(payment_event_id=payment_event_id, kind=kind, detail=detail[:500],
                                   psp_event_id=psp_event_id))


def record_capture(event: PaymentEvent, attempt: int) -> int:
    """Post the capture of every order of `event` that has not been posted yet (caller holds the checkout's
    row lock and commits). Returns how many orders were posted."""
    return record_captures([(event, attempt)])


def record_captures(paid: Sequence[tuple[PaymentEvent, int]]) -> int:
    """`record_capture` for a batch of paid checkouts (each with the attempt that paid it; the caller holds
    their row locks and commits): a few statements for the whole batch, whatever its size."""
    items: list[tuple[rules.JournalEntry, Links]] = []
    splits: list[dict] = []
    fee_requests: list[tuple[str, dict]] = []
    posted_orders: set[str] = set()
    now = utcnow()
    for checkout, attempt in paid:
        schedule = _schedule_of(checkout.merchant_id)
        posted = 0
        for order in checkout.orders:
            if order.ledger_updated:
                continue
            fee = platform_fee(order.amount, schedule)
            items.append((rules.capture(order.id, order.seller_account_id, order.currency, order.amount, fee,
                                        reference=order.payment_order_id), Links(checkout.id, order.id)))
            splits.append({"payment_order_id": order.id, "payment_event_id": checkout.id,
                           "seller_account_id": order.seller_account_id, "currency": order.currency,
                           "amount": order.amount, "platform_fee": fee, "fee_bps": schedule.bps,
                           "fee_fixed_minor": schedule.fixed_minor, "funds": Funds.PENDING.value,
                           "seller_pending": order.amount - fee, "created_at": now})
            posted_orders.add(order.id)
            posted += 1
        if posted:
            fee_requests.append((f"psp_fee:{checkout.id}", {"event": checkout.id, "attempt": attempt}))
    if not items:
        return 0
    bulk.insert_rows(OrderFunds, splits)
    ledger.post_many(items)
    outbox.add_many(FEE_TOPIC, fee_requests)
    # The flags, in one UPDATE; the loaded orders get the same values without being marked changed.
    orders = [order for checkout, _ in paid for order in checkout.orders if order.id in posted_orders]
    db.session.execute(update(PaymentOrder).where(PaymentOrder.id.in_(posted_orders))
                       .values(ledger_updated=True, wallet_updated=True).execution_options(synchronize_session=False))
    for order in orders:
        set_committed_value(order, "ledger_updated", True)
        set_committed_value(order, "wallet_updated", True)
    return len(items)


def note_funds_available(news: FundsAvailable, psp_event_id: str) -> str:
    """The PSP announced funds available up to `news.through` (caller commits): queue making them available."""
    outbox.add(AVAILABLE_TOPIC, f"available:{psp_event_id}", {"through": int(news.through)})
    return "availability_queued"


def _watermark(through: int | None = None) -> int:
    """Lock the platform's availability watermark row (creating it once) and return it, raised to `through`."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(PspAvailability).values(account=PLATFORM_ACCOUNT, available_through=0,
                                                      updated_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["account"]))
    current = db.session.scalar(select(PspAvailability.available_through)
                                .where(PspAvailability.account == PLATFORM_ACCOUNT).with_for_update()) or 0
    if through is not None and through > current:
        db.session.execute(update(PspAvailability).where(PspAvailability.account == PLATFORM_ACCOUNT)
                           .values(available_through=through, updated_at=utcnow()))
        return through
    return current


def lock_checkouts(ids: set[str]) -> None:
    if ids:
        db.session.execute(select(PaymentEvent.id).where(PaymentEvent.id.in_(sorted(ids)))
                           .order_by(PaymentEvent.id).with_for_update())


def _make_available(charge: PspCharge) -> None:
    """Post the availability of one charge (caller holds the watermark and the checkout's lock)."""
    orders = db.session.scalars(select(OrderFunds).where(OrderFunds.payment_event_id == charge.payment_event_id,
                                                         OrderFunds.funds == Funds.PENDING.value)).all()
    now = utcnow()
    sellers: dict[str, int] = defaultdict(int)
    for order in orders:
        sellers[order.seller_account_id] += order.seller_pending
        order.available_amount = order.seller_pending  # this order's line in the payout that settles it
        order.funds, order.seller_pending, order.available_at = Funds.AVAILABLE.value, 0, now
    charge.funds, charge.available_at = Funds.AVAILABLE.value, now
    ledger.post(rules.funds_available(charge.id, charge.currency, charge.net, sellers),
                Links(charge.payment_event_id))
    _note(charge.payment_event_id, "funds", f"Funds available at the PSP: {Money(charge.net, charge.currency)} net "
          f"of charge {charge.id}")


# The PSP fee job.

@dataclass(frozen=True)
class _FeePlan:
    payment_event_id: str
    payment_intent_id: str | None
    session_id: str | None


def _fee_plans(messages: list[Claimed]) -> list[_FeePlan | None]:
    keys = {(m.payload["event"], m.payload["attempt"]) for m in messages}
    sessions = {(s.payment_event_id, s.attempt): s for s in db.session.scalars(
        select(PspSession).where(PspSession.payment_event_id.in_({event for event, _ in keys})))}
    plans: list[_FeePlan | None] = []
    for message in messages:
        found = sessions.get((message.payload["event"], message.payload["attempt"]))
        plans.append(_FeePlan(message.payload["event"], found.payment_intent_id if found else None,
                              found.id if found else None))
    return plans


def _fetch_funds(psp: Psp, plan: _FeePlan) -> ChargeFunds:
    intent_id = plan.payment_intent_id
    if intent_id is None and plan.session_id is not None:
        intent_id = psp.retrieve_checkout_session(plan.session_id).payment_intent_id
    if intent_id is None:
        raise PspError(f"checkout {plan.payment_event_id} has no paid PaymentIntent to read a fee from")
    return psp.retrieve_charge_funds(intent_id)


def _record_charge(message: Claimed, plan: _FeePlan, found: ChargeFunds) -> None:
    payment_event_id = plan.payment_event_id
    through = _watermark()
    lock_checkouts({payment_event_id})
    if db.session.get(PspCharge, found.charge_id) is not None or db.session.scalar(
            select(PspCharge.id).where(PspCharge.payment_event_id == payment_event_id)) is not None:
        return  # recorded before (a repeated job, or a second charge for a checkout paid twice: left to reconciliation)
    charge = PspCharge(id=found.charge_id, payment_event_id=payment_event_id,
                       payment_intent_id=found.payment_intent_id, balance_transaction_id=found.balance_transaction_id,
                       currency=found.currency, amount=found.amount, fee=found.fee, net=found.net,
                       available_on=found.available_on, funds=Funds.PENDING.value)
    db.session.add(charge)
    ledger.post(rules.psp_fee(found.charge_id, found.currency, found.fee), Links(payment_event_id))
    _note(payment_event_id, "funds", f"PSP processing fee {Money(found.fee, found.currency)} booked for charge "
          f"{found.charge_id}")
    if found.available or found.available_on <= through:
        _make_available(charge)


# Reads the PSP fee of newly paid checkouts and books it. Batches stay small: a worker checks between batches
# whether webhooks (a higher priority) are waiting.
BOOK_FEES = PspWork[_FeePlan, ChargeFunds](
    name=FEE_TOPIC, queue=Queue.DEFAULT, plan=_fee_plans, call=_fetch_funds, apply=_record_charge,
    describe=lambda m: f"PSP fee of {m.payload['event']}")


def make_available_due(limit: int = 20) -> BatchResult:
    """Apply up to `limit` availability announcements, each in chunks of charges with one transaction each."""
    batch = BatchResult()
    for message in outbox.claim(AVAILABLE_TOPIC, limit):
        through = int(message.payload["through"])
        while True:
            _watermark(through)
            charges = db.session.scalars(
                select(PspCharge).where(PspCharge.funds == Funds.PENDING.value, PspCharge.available_on <= through)
                .order_by(PspCharge.payment_event_id).limit(AVAILABILITY_CHUNK)).all()
            lock_checkouts({c.payment_event_id for c in charges})
            for charge in charges:
                db.session.refresh(charge)  # read again under the checkout lock
                if charge.funds == Funds.PENDING.value:
                    _make_available(charge)
            if len(charges) < AVAILABILITY_CHUNK:
                outbox.complete(message.id)
                db.session.commit()
                break
            db.session.commit()
        batch.processed += 1
    return batch


def set_fee_schedule(merchant: Merchant, bps: int | None, fixed_minor: int | None, *,
                     actor: audit.Actor | None = None) -> FeeSchedule:
    """Set (or, with None, return to the platform default) a merchant's platform fee for future captures
    (audited, as `actor` or whoever the current request is)."""
    if bps is not None or fixed_minor is not None:
        FeeSchedule(bps if bps is not None else 0, fixed_minor if fixed_minor is not None else 0)  # validates
    before = {"fee_bps": merchant.fee_bps, "fee_fixed_minor": merchant.fee_fixed_minor}
    merchant.fee_bps, merchant.fee_fixed_minor = bps, fixed_minor
    audit.note("merchant.fees", "merchant", merchant.id,
               {"before": before, "after": {"fee_bps": bps, "fee_fixed_minor": fixed_minor}}, actor=actor)
    db.session.commit()
    return fee_schedule(merchant)


TOPICS = (BOOK_FEES, Drain(AVAILABLE_TOPIC, Queue.DEFAULT, make_available_due))
