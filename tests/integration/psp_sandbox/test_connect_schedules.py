"""Automatic payouts by a connected account's schedule, run by the sandbox clock, and itemized through
`GET /v1/balance_transactions?payout=po_…` as on Stripe."""

from __future__ import annotations

import datetime

import pytest
import stripe

from tests.integration.psp_sandbox.connect_support import (
    DAY,
    FAILING_IBANS,
    available,
    control,
    paid_seller,
    seconds_until,
    wait_event,
)
from tests.support.sandbox import advance_clock, sandbox_now
from tests.support.stripe_schema import assert_valid, assert_valid_response


def _payouts(psp, account_id):
    return psp.v1.payouts.list(options={"stripe_account": account_id}).data


def _to_one_hour_before_a_midnight(url):
    """From now to 23:00 UTC the next day."""
    advance_clock(url, seconds_until(sandbox_now(url), hour=23) + DAY)


def test_daily_automatic_payout_itemizes_what_it_settles(psp, sandbox, receiver):
    account, first = paid_seller(psp, sandbox.url, 2000, interval="daily")
    as_seller = {"stripe_account": account.id}
    _to_one_hour_before_a_midnight(sandbox.url)
    if sandbox_now(sandbox.url) + 3600 - first.created < 2 * DAY:
        advance_clock(sandbox.url, DAY)  # the next run is still within delay_days of the first transfer
    assert _payouts(psp, account.id) == []
    late = psp.v1.transfers.create(params={"amount": 300, "currency": "eur", "destination": account.id})
    advance_clock(sandbox.url, 2 * 3600)
    [payout] = _payouts(psp, account.id)
    assert_valid(payout)
    assert (payout.automatic, payout.amount, payout.reconciliation_status, payout.status) == (
        True, 2000, "in_progress", "pending")
    assert available(psp, account.id) == {"eur": 300}, "the newer transfer waits delay_days"
    items = psp.v1.balance_transactions.list(params={"payout": payout.id}, options=as_seller)
    assert_valid_response(items, "GET /v1/balance_transactions")
    assert sorted((t.type, t.amount) for t in items.data) == [("payment", 2000), ("payout", -2000)]
    assert {t.source for t in items.data} == {payout.id, first.destination_payment}
    assert sum(t.net for t in items.data) == 0
    advance_clock(sandbox.url, DAY)
    paid = psp.v1.payouts.retrieve(payout.id, options=as_seller)
    assert (paid.status, paid.reconciliation_status) == ("paid", "completed")
    wait_event(receiver, account.id, "payout.reconciliation_completed")
    advance_clock(sandbox.url, DAY)  # the newer transfer is two days old at the next midnight
    later = [p for p in _payouts(psp, account.id) if p.id != payout.id]
    assert [p.amount for p in later] == [300]
    items = psp.v1.balance_transactions.list(params={"payout": later[0].id}, options=as_seller).data
    assert {t.source for t in items} == {later[0].id, late.destination_payment}


def test_manual_payouts_are_not_itemized(psp, sandbox):
    account, _ = paid_seller(psp, sandbox.url, 800)
    as_seller = {"stripe_account": account.id}
    payout = psp.v1.payouts.create(params={"amount": 800, "currency": "eur"}, options=as_seller)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        psp.v1.balance_transactions.list(params={"payout": payout.id}, options=as_seller)
    assert refused.value.param == "payout"
    assert "automatic" in refused.value.user_message


def test_weekly_payouts_run_on_the_anchor_day(psp, sandbox):
    now = sandbox_now(sandbox.url)
    anchor_day = datetime.datetime.fromtimestamp(now + 4 * DAY, datetime.UTC)
    anchor = anchor_day.strftime("%A").lower()
    account, _ = paid_seller(psp, sandbox.url, 1000, interval="weekly",
                             settings={"payouts": {"schedule": {"interval": "weekly", "weekly_anchor": anchor}}})
    advance_clock(sandbox.url, seconds_until(now, hour=1))
    days_with_payouts = []
    for _ in range(8):
        advance_clock(sandbox.url, DAY)
        if _payouts(psp, account.id) and not days_with_payouts:
            days_with_payouts.append(datetime.datetime.fromtimestamp(sandbox_now(sandbox.url), datetime.UTC))
    assert len(_payouts(psp, account.id)) == 1
    assert days_with_payouts[0].strftime("%A").lower() == anchor


def test_manual_schedule_pays_nothing_and_switching_plans_the_next_run(psp, sandbox):
    account, _ = paid_seller(psp, sandbox.url, 900)
    advance_clock(sandbox.url, 4 * DAY)
    assert _payouts(psp, account.id) == []
    psp.v1.accounts.update(account.id, params={"settings": {"payouts": {"schedule": {"interval": "daily"}}}})
    advance_clock(sandbox.url, DAY)
    assert [p.amount for p in _payouts(psp, account.id)] == [900]


def test_an_errored_bank_account_stops_scheduled_payouts(psp, sandbox):
    iban = next(iter(FAILING_IBANS))
    account, _ = paid_seller(psp, sandbox.url, 1000, iban=iban, interval="daily")
    advance_clock(sandbox.url, 3 * DAY)
    [payout] = _payouts(psp, account.id)
    advance_clock(sandbox.url, DAY + 3600)
    assert psp.v1.payouts.retrieve(payout.id, options={"stripe_account": account.id}).status == "failed"
    assert available(psp, account.id) == {"eur": 1000}
    advance_clock(sandbox.url, 3 * DAY)
    assert len(_payouts(psp, account.id)) == 1, "no payout to an errored bank account"


@pytest.mark.parametrize("debit", [True, False])
def test_negative_balance_is_debited_from_the_bank_when_allowed(psp, sandbox, debit):
    account, _ = paid_seller(psp, sandbox.url, 1000, interval="manual")
    assert control(sandbox.url, f"{account.id}/debit", {"amount": 1600})[0] == 200
    psp.v1.accounts.update(account.id, params={"settings": {"payouts": {
        "schedule": {"interval": "daily"}, "debit_negative_balances": debit}}})
    advance_clock(sandbox.url, 3 * DAY)
    if debit:
        [payout] = _payouts(psp, account.id)
        assert (payout.amount, payout.automatic) == (-600, True)
        assert available(psp, account.id) == {"eur": 0}
    else:
        assert _payouts(psp, account.id) == []
        assert available(psp, account.id) == {"eur": -600}
