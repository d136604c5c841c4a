"""Pay-outs under the faults money must survive: overlapping runs, a worker killed mid-payout, lost and
reordered webhooks, refunds after a payout, schedules across a month."""

import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from tests.support.sandbox import clear_faults, set_faults
from webapp.dbtypes import utcnow
from webapp.domain.payouts import Interval, Schedule
from webapp.domain.sellers import SellerChanges
from webapp.extensions import db
from webapp.models import LedgerEntry, Merchant, OutboxMessage, Payout, SellerAccount
from webapp.psp import get_psp
from webapp.services import outbox, payout_jobs, payouts, sellers


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def _paid_sellers(client, psp_url: str, count: int = 2, amounts: tuple[str, ...] = ("30.00", "20.00")):
    merchant = factories.merchant()
    found = po.onboarded_sellers(merchant, po.GOOD_IBANS[:count])
    books.paid_checkout(client, pay.Api(client, factories.api_key(merchant)), found, psp_url, amounts=amounts)
    po.make_available(psp_url)
    return merchant, found


def test_ten_overlapping_runs_make_one_payout_per_due_seller(app, client, psp):
    _, found = _paid_sellers(client, psp.url, count=3, amounts=("30.00", "20.00", "10.00"))
    results, errors = [], []

    def one_run():
        try:
            with app.app_context():
                results.append(payouts.run(date.today()))
                db.session.remove()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(len(r.created) for r in results) == 3
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Payout)) == 3
    assert all(len(po.payouts_of(s.id)) == 1 for s in found)


def test_a_worker_killed_between_the_transfer_and_the_payout_never_transfers_twice(app, client, psp):
    _, (seller, _) = _paid_sellers(client, psp.url)
    payouts.run(date.today(), seller_id=seller.id)
    db.session.commit()
    (claimed,) = outbox.claim(payouts.TRANSFER_TOPIC, 10)
    (plan,) = payout_jobs.TRANSFER.plan([claimed])
    db.session.rollback()
    get_psp().create_transfer(plan.transfer)  # it went through; the worker died before the payout call
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == claimed.id)
                       .values(claimed_until=utcnow() - timedelta(seconds=1)))  # its lease ran out
    db.session.commit()
    po.drain_payouts()
    po.drain_payouts()
    (payout,) = po.payouts_of(seller.id)
    assert payout.psp_transfer_id and payout.psp_payout_id
    transfers = get_psp_transfers(psp.url, payout.id)
    assert [t["id"] for t in transfers] == [payout.psp_transfer_id]


def get_psp_transfers(psp_url: str, transfer_group: str) -> list[dict]:
    import stripe

    client = stripe.StripeClient("sk_test_x", base_addresses={"api": psp_url})
    return [t.to_dict() for t in client.v1.transfers.list({"transfer_group": transfer_group}).data]


def test_a_lost_paid_webhook_is_found_by_the_sweeper(app, client, psp):
    _, (seller, _) = _paid_sellers(client, psp.url)
    po.run_and_submit(seller_id=seller.id)
    set_faults(psp.url, {"webhooks": {"drop_rate": 1.0}})
    try:
        po.settle_payouts(psp.url)
        assert po.payouts_of(seller.id)[0].status in ("pending", "in_transit")
        app.config["PAYOUT_SYNC_AFTER_SECONDS"] = 0
        from workers import jobs

        db.session.rollback()  # the job runs in an app context of its own: hold no (SQLite) transaction
        jobs.sweep()
        pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(seller.id)[0].status == "paid")[1],
                       what="the sweeper's poll to find the payout paid")
    finally:
        clear_faults(psp.url)
        app.config["PAYOUT_SYNC_AFTER_SECONDS"] = 3600
    assert books.platform("payouts_in_transit") == 0 and books.platform("psp_connected") == 0


def _signed_post(client, event: dict):
    from tests.integration.conftest import WEBHOOK_SECRET

    body = json.dumps(event)
    return client.post("/webhooks/psp", data=body, content_type="application/json",
                       headers={"Stripe-Signature": pay.sign(body, WEBHOOK_SECRET)})


def test_duplicated_and_reordered_payout_events_apply_once_and_never_move_backwards(app, client, psp):
    _, (seller, _) = _paid_sellers(client, psp.url)
    po.run_and_submit(seller_id=seller.id)
    (payout,) = po.payouts_of(seller.id)
    base = {"id": payout.psp_payout_id, "object": "payout", "amount": payout.amount, "currency": "usd",
            "arrival_date": 1_900_000_000, "metadata": {"payout_id": payout.id}}
    news = [("payout.paid", "paid"), ("payout.updated", "in_transit"), ("payout.paid", "paid"),
            ("payout.created", "pending"), ("payout.updated", "in_transit")]
    for n, (event_type, status) in enumerate(news):
        event = {"id": f"evt_reorder_{payout.id}_{n}", "object": "event", "type": event_type, "created": 1,
                 "account": payout.psp_account_id, "data": {"object": {**base, "status": status}}}
        assert _signed_post(client, event).status_code == 200
        assert _signed_post(client, event).status_code == 200  # the same event twice
    pay.drain("inbox")
    (payout,) = po.payouts_of(seller.id)
    assert payout.status == "paid"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.key == f"payout_paid:{payout.id}")) == 1
    assert books.platform("payouts_in_transit") == sum(p.amount for p in po.payouts_of(seller.id)
                                                       if p.status in ("pending", "in_transit"))


def test_a_refund_after_the_payout_leaves_a_negative_balance_netted_from_the_next_payout(app, client, psp):
    merchant = factories.merchant()
    (seller,) = po.onboarded_sellers(merchant, po.GOOD_IBANS[:1])
    api = pay.Api(client, factories.api_key(merchant))
    first = books.paid_checkout(client, api, [seller], psp.url, amounts=("40.00",))
    po.make_available(psp.url)
    po.run_and_submit(seller_id=seller.id)
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(seller.id)[0].status == "paid")[1], what="paid")

    refund = client.post(f"/v1/payments/{first.checkout_id}/refunds", headers=api.headers(),
                         json={"payment_order_id": first.orders[0].payment_order_id, "amount": "10.00"})
    assert refund.status_code == 201, refund.json
    books.drain_money()
    owed = books.wallet(seller.id)[1]
    assert owed < 0  # the seller's share of the refund, to be netted
    db.session.rollback()
    fresh = db.session.get(SellerAccount, seller.id)
    from webapp.services import payout_reads

    assert payout_reads.paused(fresh) is not None and payout_reads.paused(fresh).value == "negative_balance"

    books.paid_checkout(client, api, [seller], psp.url, amounts=("25.00",))
    po.make_available(psp.url)
    share = books.wallet(seller.id)[1]
    tomorrow = date.today() + timedelta(days=1)
    po.run_and_submit(tomorrow, seller_id=seller.id)
    second = po.payouts_of(seller.id)[-1]
    assert second.amount == share and sum(i.amount for i in second.items) == share
    assert {i.kind for i in second.items} == {"payment_order", "refund"}


def test_schedules_across_a_month(app, client, psp):
    merchant = factories.merchant()
    kinds = {"daily": Schedule(), "weekly": Schedule(Interval.WEEKLY, weekly_anchor="friday"),
             "monthly": Schedule(Interval.MONTHLY, monthly_anchor=31), "manual": Schedule(Interval.MANUAL)}
    found = po.onboarded_sellers(merchant, po.GOOD_IBANS[:4])
    db.session.rollback()
    owner = db.session.get(Merchant, merchant.id)
    for seller, schedule in zip(found, kinds.values(), strict=True):
        sellers.update(owner, seller.id, SellerChanges(schedule=schedule))
    api = pay.Api(client, factories.api_key(merchant))
    books.paid_checkout(client, api, found, psp.url, amounts=("10.00", "11.00", "12.00", "13.00"))
    po.make_available(psp.url)
    paid_on: dict[str, list[date]] = {name: [] for name in kinds}
    start = date.today()
    for offset in range(31):
        day = start + timedelta(days=offset)
        for _ in range(2):  # a second run the same day pays no one twice
            payouts.run(day)
        db.session.rollback()
        for name, seller in zip(kinds, found, strict=True):
            count = len(po.payouts_of(seller.id))
            if count > len(paid_on[name]):
                paid_on[name].append(day)
    assert paid_on["daily"] == [start]  # paid its whole balance on the first day; nothing left after
    assert paid_on["weekly"] and paid_on["weekly"][0].weekday() == 4 and len(paid_on["weekly"]) == 1
    last_days = [d for d in (start + timedelta(days=n) for n in range(31)) if (d + timedelta(days=1)).day == 1]
    assert paid_on["monthly"] == last_days[:1]
    assert paid_on["manual"] == []
    assert db.session.scalar(select(func.count()).select_from(Payout).where(Payout.merchant_id == merchant.id)) \
        == 3


LATE_FAILURE_IBAN = "DE35370400440532013099"  # the sandbox pays it, then the bank returns it a day later


def test_a_payout_the_bank_returns_after_it_was_paid_comes_back_to_the_wallet(app, client, psp):
    merchant = factories.merchant()
    (seller,) = po.onboarded_sellers(merchant, [LATE_FAILURE_IBAN])
    books.paid_checkout(client, pay.Api(client, factories.api_key(merchant)), [seller], psp.url, amounts=("15.00",))
    po.make_available(psp.url)
    available = books.wallet(seller.id)[1]
    po.run_and_submit(seller_id=seller.id)
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(seller.id)[0].status == "paid")[1], what="paid")
    assert books.wallet(seller.id)[1] == 0 and books.platform("payouts_in_transit") == 0

    po.settle_payouts(psp.url, 2 * 86_400)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(seller.id)[0].status == "failed")[1],
                   what="the late return")
    pay.wait_until(lambda: (po.drain_payouts(), bool(po.payouts_of(seller.id)[0].psp_reversal_id))[1],
                   what="the transfer reversed")
    (payout,) = po.payouts_of(seller.id)
    assert payout.failure_code == "account_closed"
    assert books.wallet(seller.id)[1] == available
    assert books.platform("payouts_in_transit") == 0 and books.platform("psp_connected") == 0
    db.session.rollback()
    assert db.session.get(SellerAccount, seller.id).bank_account_status == "errored"
    keys = set(db.session.scalars(select(LedgerEntry.key).where(LedgerEntry.payout_id == payout.id)))
    assert keys == {f"payout:{payout.id}", f"payout_transfer:{payout.id}", f"payout_paid:{payout.id}",
                    f"payout_unpaid:{payout.id}", f"payout_returned:{payout.id}", f"payout_reversal:{payout.id}"}
