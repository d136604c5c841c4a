"""Reconciling days with pay-outs, fetched from the PSP through the SDK: a day of payouts, transfers and reversals
that is clean, and a payout the bank returned after it was paid, whose news we never got.

Our side of a movement is dated by our clock, the PSP's by its own: the clean day runs in a sandbox whose funds
become available and whose payouts arrive within minutes, so both clocks stay on the same day."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from tests.support import reconciliation as recon
from tests.support.sandbox import advance_clock, clear_faults, set_faults, stripe_client
from webapp.domain.reconciliation import day_of
from webapp.extensions import db
from webapp.models import PayoutItem
from webapp.psp import PspError
from webapp.psp.reporting import get_reporting_psp
from webapp.services.reconciliation import runs

LATE_FAILURE_IBAN = "DE35370400440532013099"  # the sandbox pays it, then the bank returns it a day later
QUICK = ("--available-delay", "60", "--payout-transit-delay", "10", "--payout-arrival-delay", "60")


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


@pytest.fixture
def quick_psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path, extra_args=QUICK) as process:
        yield process


def _run(psp_url: str, day) -> runs.RunResult:
    advance_clock(psp_url, 2)  # the report ends at the PSP's "now": let the last second in
    db.session.rollback()
    return runs.run_day(day, triggered_by="test")


def _paid_out(client, psp_url: str, ibans: list[str], amounts: tuple[str, ...], make_available,
              refund: bool = False) -> list:
    """Sellers paid for a checkout (one of its orders partly refunded if `refund`), funds available, paid out."""
    merchant = factories.merchant()
    sellers = po.onboarded_sellers(merchant, ibans)
    api = pay.Api(client, factories.api_key(merchant))
    event = books.paid_checkout(client, api, sellers, psp_url, amounts=amounts)
    if refund:
        recon.refund(api, event.checkout_id, event.orders[0].payment_order_id, "1.00")
        pay.wait_until(lambda: (books.drain_money(), recon.any_refund_paid())[1], what="refund paid")
    make_available()
    po.run_and_submit(seller_id=None)
    return sellers


def test_a_day_of_payouts_transfers_and_reversals_reconciles_clean(app, client, quick_psp):
    def available() -> None:
        before = books.platform("psp_available")
        advance_clock(quick_psp.url, 120)
        pay.wait_until(lambda: (books.drain_money(), books.platform("psp_available") > before)[1],
                       what="funds available")

    good, failing = _paid_out(client, quick_psp.url, [po.GOOD_IBANS[0], po.NO_ACCOUNT_IBAN], ("30.00", "20.00"),
                              available, refund=True)
    po.settle_payouts(quick_psp.url, 180)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(good.id)[0].status == "paid")[1], what="paid")
    pay.wait_until(lambda: (po.drain_payouts(), bool(po.payouts_of(failing.id)[0].psp_reversal_id))[1],
                   what="the failed payout's transfer reversed")
    day = recon.psp_day(quick_psp.url)
    assert {p.created_at.date() for s in (good, failing) for p in po.payouts_of(s.id)} == {day}

    result = _run(quick_psp.url, day)
    assert result.mismatches == [] and result.run.open_count == 0
    db.session.rollback()
    platform, connected = (recon.rows(recon.report_csv(quick_psp.url, day, connected=flag))[1]
                           for flag in (False, True))
    categories = {line["reporting_category"] for line in platform + connected if line["created_utc"][:10]
                  == day.isoformat()}
    assert {"charge", "refund", "transfer", "transfer_reversal", "payout", "payout_reversal"} <= categories
    assert result.run.rows == result.run.matched > 0

    # A payout whose statement lines do not add up to what was paid out: the PSP's payout row shows it.
    (paid,) = po.payouts_of(good.id)
    line = db.session.scalars(select(PayoutItem).where(PayoutItem.payout_id == paid.id)).first()
    line_id, amount = line.id, line.amount
    db.session.execute(update(PayoutItem).where(PayoutItem.id == line_id).values(amount=amount - 100))
    db.session.commit()
    again = _run(quick_psp.url, day)
    assert [(m.class_name, m.movement, m.source_id, m.amount_psp, m.amount_ours) for m in again.mismatches] == [
        ("amount_mismatch", "payout", paid.psp_payout_id, -paid.amount, -paid.amount + 100)]
    db.session.execute(update(PayoutItem).where(PayoutItem.id == line_id).values(amount=amount))
    db.session.commit()  # `ledger verify` (after every test) finds the changed line too: put it back


def test_a_late_payout_failure_we_never_heard_of_is_a_status_mismatch(app, client, psp):
    def available() -> None:
        po.make_available(psp.url)

    (seller,) = _paid_out(client, psp.url, [LATE_FAILURE_IBAN], ("15.00",), available)
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(seller.id)[0].status == "paid")[1], what="paid")
    set_faults(psp.url, {"webhooks": {"drop_rate": 1.0}})  # the bank's return is never announced to us
    try:
        advance_clock(psp.url, 2 * 86_400)
    finally:
        clear_faults(psp.url)
    po.drain_payouts()
    (payout,) = po.payouts_of(seller.id)
    assert payout.status == "paid"  # we still think it paid
    as_seller = {"stripe_account": payout.psp_account_id}
    at_psp = stripe_client(psp.url).v1.payouts.retrieve(payout.psp_payout_id, options=as_seller)
    assert at_psp.status == "failed"
    returned = stripe_client(psp.url).v1.balance_transactions.retrieve(at_psp.failure_balance_transaction,
                                                                        options=as_seller)

    result = _run(psp.url, day_of(returned.created))
    assert [(m.class_name, m.movement, m.source_id, m.status) for m in result.mismatches] == [
        ("status_mismatch", "payout_failure", payout.psp_payout_id, "open")]
    assert (result.mismatches[0].amount_psp, result.mismatches[0].amount_ours) == (payout.amount, -payout.amount)
    assert result.run.open_count == 1  # the connected account's balance difference is this one's, not reported


def test_only_automatic_payouts_are_itemized_at_the_psp(app, client, psp):
    """Our payouts are manual, so the PSP does not itemize them (400, like Stripe): each is reconciled by its own
    balance transaction, its transfer, and its statement lines summing to its amount (docs/reconciliation.md)."""
    merchant = factories.merchant()
    (seller,) = po.onboarded_sellers(merchant, [po.GOOD_IBANS[0]])
    api = pay.Api(client, factories.api_key(merchant))
    books.paid_checkout(client, api, [seller], psp.url, amounts=("12.00",))
    po.make_available(psp.url)
    po.run_and_submit(seller_id=seller.id)
    (payout,) = po.payouts_of(seller.id)
    assert payout.psp_payout_id, (payout.status, payout.failure_code)
    reporting = get_reporting_psp()
    with pytest.raises(PspError) as refused:
        reporting.payout_transactions(payout.psp_account_id, payout.psp_payout_id)
    assert refused.value.http_status == 400

    # An automatic payout at the PSP: a transfer to the connected account, paid out by a daily schedule.
    books.paid_checkout(client, api, [seller], psp.url, amounts=("5.00",))
    po.make_available(psp.url)
    sdk = stripe_client(psp.url)
    transfer = sdk.v1.transfers.create(params={"amount": 50, "currency": "usd", "destination": seller.psp_account_id})
    sdk.v1.accounts.update(seller.psp_account_id, params={"settings": {"payouts": {"schedule": {
        "interval": "daily", "delay_days": 2}}}})
    advance_clock(psp.url, 4 * 86_400)
    automatic = [p for p in sdk.v1.payouts.list(options={"stripe_account": seller.psp_account_id}).data
                 if p.automatic]
    assert [p.amount for p in automatic] == [50]
    items = reporting.payout_transactions(seller.psp_account_id, automatic[0].id)
    # It settles what the account's balance held since its last automatic payout (our manual one's movements
    # included): the balance transactions it pays out sum to nothing with its own.
    assert {automatic[0].id, transfer.destination_payment, payout.psp_payout_id} <= {t.source_id for t in items}
    assert [t.amount for t in items if t.source_id == automatic[0].id] == [-50]
    assert sum(t.amount - t.fee for t in items) == 0
