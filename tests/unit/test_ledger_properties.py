"""Property-based: random payments, duplicated and reordered webhooks, partial refunds and refunds that bounce,
funds made available before, between or after them → every ledger invariant holds and the balances equal a
simple reference model.

The real services run on an embedded SQLite file (no server) with the in-memory FakePsp; webhooks are the
PSP's event documents fed through the real inbox, in a shuffled order and several times each.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from flask_migrate import upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from config import load_config
from tests.support.fake_psp import DAY, FakePsp
from webapp import create_app
from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.domain.refunds import RefundRequest
from webapp.domain.wallets import FeeSchedule, RefundPolicy, Split, platform_fee, refund_split, refundable
from webapp.extensions import db
from webapp.models import (
    LedgerAccount,
    Merchant,
    PaymentEvent,
    PaymentOrder,
    PspSession,
    Refund,
    SellerAccount,
)
from webapp.psp import read_notice
from webapp.services import crypto, funds, inbox, refund_jobs, refunds, verification

SCHEDULE = FeeSchedule(300, 30)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    path = tmp_path_factory.mktemp("ledger-properties") / "gateway.db"
    application = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                             REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="memory://",
                             PLATFORM_FEE_BPS=SCHEDULE.bps, PLATFORM_FEE_FIXED_MINOR=SCHEDULE.fixed_minor)
    with application.app_context():
        upgrade()
        yield application


def _empty() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(text(f'DELETE FROM "{table.name}"'))
    db.session.commit()


@dataclass
class Reference:
    """What the books must say, computed the simple way."""

    shares: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # seller → money owed
    fees: int = 0           # platform fees kept
    psp_fees: int = 0
    net: int = 0            # charges' net at the PSP
    refunded: int = 0       # refunds paid and not bounced
    active: dict[str, list[tuple[str, Split]]] = field(default_factory=lambda: defaultdict(list))  # order → refunds


@dataclass
class World:
    psp: FakePsp
    merchant: Merchant
    sellers: list[str]
    orders: list[tuple[str, str, str, int]] = field(default_factory=list)  # checkout id, order ref, seller, amount
    order_ids: dict[str, str] = field(default_factory=dict)  # order ref → our order id
    refund_ids: list[str] = field(default_factory=list)


def _world(psp: FakePsp) -> World:
    merchant = Merchant(name=f"Shop {random.random()}")
    db.session.add(merchant)
    sellers = [SellerAccount(merchant=merchant, display_name=f"S{i}", iban=f"DE{i}", currency="USD")
               for i in range(3)]
    db.session.add_all(sellers)
    db.session.commit()
    return World(psp, merchant, [s.id for s in sellers])


def _deliver(events: list[dict], copies: int, rng: random.Random) -> None:
    """Webhooks as the PSP sends them: each possibly several times, in any order."""
    batch = [event for event in events for _ in range(1 + rng.randrange(copies))]
    rng.shuffle(batch)
    for event in batch:
        payload = json.dumps(event)
        inbox.receive(read_notice(payload), payload)
    _drain()


def _drain() -> None:
    for _ in range(50):
        done = sum(job().processed for job in (inbox.drain, lambda: funds.BOOK_FEES.drain(psp=PSP[0]),
                                               funds.make_available_due,
                                               lambda: refund_jobs.CREATE.drain(psp=PSP[0]),
                                               lambda: refund_jobs.SYNC.drain(psp=PSP[0])))
        if not done:
            return
    raise AssertionError("the money jobs did not settle")


PSP: list[FakePsp] = []  # the current example's fake PSP, for the drain helpers


def _pay(world: World, reference: Reference, payments: list[list[tuple[int, int]]], copies: int,
         rng: random.Random) -> None:
    events = []
    for n, orders in enumerate(payments):
        checkout_id, session_id, intent = f"chk-{n}", f"cs_{n}", f"pi_{n}"
        event = PaymentEvent(merchant_id=world.merchant.id, checkout_id=checkout_id, request_hash="-",
                             currency="USD", amount_total=sum(a for a, _ in orders),
                             buyer_email_enc=crypto.encrypt("buyer@example.com"), attempt=1, status="EXECUTING",
                             psp_session_id=session_id)
        event.orders = [PaymentOrder(payment_order_id=f"o{n}-{i}", position=i, seller_account_id=world.sellers[s],
                                     amount=a, currency="USD", status="EXECUTING") for i, (a, s) in enumerate(orders)]
        db.session.add(event)
        db.session.flush()
        db.session.add(PspSession(id=session_id, payment_event_id=event.id, attempt=1))
        db.session.flush()
        for order in event.orders:
            world.orders.append((checkout_id, order.payment_order_id, order.seller_account_id, order.amount))
            world.order_ids[order.payment_order_id] = order.id
            fee = platform_fee(order.amount, SCHEDULE)
            reference.shares[order.seller_account_id] += order.amount - fee
            reference.fees += fee
        charge = world.psp.charge(intent, event.amount_total, "USD")
        reference.psp_fees += charge.fee
        reference.net += charge.net
        events.append(world.psp.event("checkout.session.completed", {
            "id": session_id, "object": "checkout.session", "status": "complete", "payment_status": "paid",
            "payment_intent": intent}))
    db.session.commit()
    _deliver(events, copies, rng)


def _refund(world: World, reference: Reference, wish: tuple[int, int | None], policy: RefundPolicy) -> None:
    pick, amount = wish
    checkout_id, order_ref, seller, captured = world.orders[pick % len(world.orders)]
    active = reference.active[order_ref]
    left = refundable(captured, [split for _, split in active])
    if left == 0:
        return
    amount = left if amount is None else 1 + (amount - 1) % left
    document = {"payment_order_id": order_ref, "amount": Money(amount, "USD").decimal_string}
    try:
        refund_id = refunds.request(world.merchant, checkout_id, RefundRequest.from_json(document), None,
                                    lambda r: {"id": r.id}).body["id"]
    except DomainError as exc:
        raise AssertionError(f"a refund within what is left was refused: {exc.message}")
    split = refund_split(captured, platform_fee(captured, SCHEDULE), [s for _, s in active], amount, policy)
    stored = db.session.get(Refund, refund_id)
    assert (stored.seller_share, stored.fee_share) == (split.seller_share, split.fee_share)
    active.append((refund_id, split))
    reference.shares[seller] -= split.seller_share
    reference.fees -= split.fee_share
    reference.refunded += amount
    world.refund_ids.append(refund_id)


def _refund_news(world: World, ids: list[str]) -> list[dict]:
    events = []
    for refund_id in ids:
        psp_refund = next(r for r in world.psp.refunds.values() if r.metadata["refund_id"] == refund_id)
        obj = world.psp.refund_object(psp_refund)
        events += [world.psp.event("refund.created", obj), world.psp.event("charge.refunded", {
            "id": "ch_x", "object": "charge", "payment_intent": psp_refund.payment_intent_id})]
    return events


def _bounce(world: World, reference: Reference, refund_id: str) -> list[dict]:
    stale = next(r for r in world.psp.refunds.values() if r.metadata["refund_id"] == refund_id)
    failed = world.psp.bounce(stale.id)
    for order_ref, active in reference.active.items():
        for entry in list(active):
            if entry[0] == refund_id:
                active.remove(entry)
                seller = next(s for _, ref, s, _ in world.orders if ref == order_ref)
                reference.shares[seller] += entry[1].seller_share
                reference.fees += entry[1].fee_share
                reference.refunded -= failed.amount
    obj = world.psp.refund_object(failed)
    stale_obj = world.psp.refund_object(stale)  # an older "succeeded" arriving after the failure
    return [world.psp.event("refund.updated", obj), world.psp.event("refund.failed", obj),
            world.psp.event("refund.created", stale_obj)]


def _make_available(world: World, copies: int, rng: random.Random) -> None:
    world.psp.advance(2 * DAY + 1)
    _deliver([world.psp.event("balance.available", {"object": "balance"})], copies, rng)


payments_st = st.lists(st.lists(st.tuples(st.integers(1, 20_000), st.integers(0, 2)), min_size=1, max_size=3),
                       min_size=1, max_size=4)
refunds_st = st.lists(st.tuples(st.integers(0, 50), st.one_of(st.none(), st.integers(1, 20_000))), max_size=6)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(payments=payments_st, early=refunds_st, late=refunds_st, bounces=st.lists(st.integers(0, 20), max_size=3),
       available=st.sampled_from(["never", "between", "end"]), copies=st.integers(1, 3),
       policy=st.sampled_from(list(RefundPolicy)), seed=st.integers(0, 2**32))
def test_books_balance_and_match_the_reference_model(app, payments, early, late, bounces, available, copies,
                                                     policy, seed):
    _empty()
    app.config["REFUND_FEE_POLICY"] = policy.value
    rng = random.Random(seed)
    PSP[:] = [FakePsp()]
    world, reference = _world(PSP[0]), Reference()
    _pay(world, reference, payments, copies, rng)

    for wish in early:
        _refund(world, reference, wish, policy)
    _drain()  # the PSP refunds are created
    _deliver(_refund_news(world, world.refund_ids), copies, rng)
    if available == "between":
        _make_available(world, copies, rng)
    first = len(world.refund_ids)
    for wish in late:
        _refund(world, reference, wish, policy)
    _drain()
    news = _refund_news(world, world.refund_ids[first:])
    bounced = sorted({world.refund_ids[b % len(world.refund_ids)] for b in bounces} if world.refund_ids else set())
    for refund_id in bounced:
        news += _bounce(world, reference, refund_id)
    _deliver(news, copies, rng)
    if available == "end":
        _make_available(world, copies, rng)

    report = verification.verify()
    assert report.ok, report.text()
    made_available = available != "never"
    for seller in world.sellers:
        accounts = {a.kind: a.balance for a in db.session.query(LedgerAccount).filter_by(seller_account_id=seller)}
        owed = reference.shares.get(seller, 0)
        assert accounts.get("wallet_available", 0) == (owed if made_available else 0)
        assert accounts.get("wallet_pending", 0) == (0 if made_available else owed)
    platform = {a.kind: a.balance for a in db.session.query(LedgerAccount).filter_by(seller_account_id=None)}
    assert platform.get("fee_revenue", 0) == reference.fees
    assert platform.get("psp_fees", 0) == reference.psp_fees
    assert platform.get("refunds", 0) == 0
    assert platform.get("psp_pending", 0) == (0 if made_available else reference.net)
    assert platform.get("psp_available", 0) == (reference.net if made_available else 0) - reference.refunded
    statuses = {r.id: r.status for r in db.session.query(Refund)}
    assert statuses == {r: ("failed" if r in bounced else "succeeded") for r in world.refund_ids}
    assert len({call for call in PSP[0].calls if call.startswith("refund ")}) == len(world.refund_ids)
    db.session.rollback()
