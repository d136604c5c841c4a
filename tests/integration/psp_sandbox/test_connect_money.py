"""Money on connected accounts: transfer reversals, payout cancellation, payout failures by test IBAN (also a
late one), errored bank accounts, negative balances and account debits."""

from __future__ import annotations

import subprocess

import pytest
import requests
import stripe

from tests.integration.psp_sandbox.connect_support import (
    DAY,
    FAILING_IBANS,
    LATE_FAILURE_IBAN,
    available,
    control,
    events_for,
    paid_seller,
    wait_event,
)
from tests.support.processes import ROOT, python
from tests.support.sandbox import advance_clock, clear_faults, set_faults
from tests.support.stripe_schema import assert_valid


def _transactions(psp, account_id=None, **params):
    options = {"stripe_account": account_id} if account_id else {}
    return psp.v1.balance_transactions.list(params=params, options=options).data


def test_partial_and_full_reversals(psp, sandbox, receiver):
    account, transfer = paid_seller(psp, sandbox.url, 3000)
    platform_before = available(psp)["eur"]
    first = psp.v1.transfers.reversals.create(transfer.id, params={
        "amount": 1000, "description": "Order A refunded", "metadata": {"order": "A"}})
    assert_valid(first)
    assert (first.amount, first.transfer, first.metadata.to_dict()) == (1000, transfer.id, {"order": "A"})
    assert first.destination_payment_refund.startswith("pyr_")
    partly = psp.v1.transfers.retrieve(transfer.id)
    assert_valid(partly)
    assert (partly.amount_reversed, partly.reversed, partly.reversals.data[0].id) == (1000, False, first.id)
    assert available(psp, account.id) == {"eur": 2000}
    assert available(psp)["eur"] == platform_before + 1000
    back = _transactions(psp, type="transfer_refund")[0]
    assert (back.amount, back.source, back.reporting_category, back.description) == (
        1000, first.id, "transfer_reversal", "Order A refunded")
    taken = _transactions(psp, account.id, type="payment_refund")[0]
    assert (taken.amount, taken.source, taken.reporting_category) == (-1000, first.destination_payment_refund,
                                                                      "transfer_reversal")
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        psp.v1.transfers.reversals.create(transfer.id, params={"amount": 2001})
    assert (too_much.value.param, too_much.value.code) == ("amount", "amount_too_large")
    rest = psp.v1.transfers.reversals.create(transfer.id)
    assert rest.amount == 2000
    full = psp.v1.transfers.retrieve(transfer.id)
    assert (full.amount_reversed, full.reversed) == (3000, True)
    listed = psp.v1.transfers.reversals.list(transfer.id)
    assert [r.id for r in listed.data] == [rest.id, first.id]
    assert psp.v1.transfers.reversals.retrieve(transfer.id, first.id).amount == 1000
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.transfers.reversals.create(transfer.id)
    payment = psp.v1.charges.retrieve(transfer.destination_payment, options={"stripe_account": account.id})
    assert (payment.amount_refunded, payment.refunded) == (3000, True)
    reversed_events = [e for e in receiver.wait_for(
        lambda events: sum(e["type"] == "transfer.reversed" and e["data"]["object"]["id"] == transfer.id
                           for e in events) == 2) if e["type"] == "transfer.reversed"]
    assert_valid(reversed_events[-1])


def test_reversal_needs_the_accounts_available_balance(psp, sandbox):
    account, transfer = paid_seller(psp, sandbox.url, 2000)
    psp.v1.payouts.create(params={"amount": 1500, "currency": "eur"}, options={"stripe_account": account.id})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        psp.v1.transfers.reversals.create(transfer.id, params={"amount": 1000})
    assert refused.value.code == "balance_insufficient"
    assert psp.v1.transfers.reversals.create(transfer.id, params={"amount": 500}).amount == 500
    assert available(psp, account.id) == {"eur": 0}


def test_update_transfer_metadata_and_description(psp, sandbox, receiver):
    _, transfer = paid_seller(psp, sandbox.url, 1000)
    updated = psp.v1.transfers.update(transfer.id, params={"description": "Payout run 7",
                                                           "metadata": {"run": "7"}})
    assert (updated.description, updated.metadata.to_dict()) == ("Payout run 7", {"run": "7"})
    events = receiver.wait_for(lambda evs: any(e["type"] == "transfer.updated" and
                                               e["data"]["object"]["id"] == transfer.id for e in evs))
    event = next(e for e in events if e["type"] == "transfer.updated" and e["data"]["object"]["id"] == transfer.id)
    assert event["data"]["previous_attributes"] == {"description": None, "metadata": {}}


def test_cancel_a_pending_payout(psp, sandbox, receiver):
    account, _ = paid_seller(psp, sandbox.url, 2000)
    as_seller = {"stripe_account": account.id}
    payout = psp.v1.payouts.create(params={"amount": 1200, "currency": "eur"}, options=as_seller)
    assert (payout.automatic, payout.method, payout.reconciliation_status) == (False, "standard", "not_applicable")
    assert payout.trace_id.to_dict() == {"status": "pending", "value": None}
    assert available(psp, account.id) == {"eur": 800}
    canceled = psp.v1.payouts.cancel(payout.id, options=as_seller)
    assert_valid(canceled)
    assert canceled.status == "canceled" and canceled.failure_balance_transaction
    assert available(psp, account.id) == {"eur": 2000}
    returned = psp.v1.balance_transactions.retrieve(canceled.failure_balance_transaction, options=as_seller)
    assert (returned.type, returned.amount, returned.source, returned.reporting_category) == (
        "payout_cancel", 1200, payout.id, "payout_reversal")
    wait_event(receiver, account.id, "payout.canceled")
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.payouts.cancel(payout.id, options=as_seller)
    moving = psp.v1.payouts.create(params={"amount": 500, "currency": "eur"}, options=as_seller)
    advance_clock(sandbox.url, 3600)
    with pytest.raises(stripe.InvalidRequestError) as in_transit:
        psp.v1.payouts.cancel(moving.id, options=as_seller)
    assert "pending" in in_transit.value.user_message


def test_payout_failures_by_test_iban(psp, sandbox, receiver):
    sellers = {iban: paid_seller(psp, sandbox.url, 1000, iban=iban)[0] for iban in FAILING_IBANS}
    payouts = {iban: psp.v1.payouts.create(params={"amount": 1000, "currency": "eur"},
                                           options={"stripe_account": account.id})
               for iban, account in sellers.items()}
    advance_clock(sandbox.url, DAY + 3600)
    for iban, code in FAILING_IBANS.items():
        account = sellers[iban]
        as_seller = {"stripe_account": account.id}
        failed = psp.v1.payouts.retrieve(payouts[iban].id, options=as_seller)
        assert_valid(failed)
        assert (failed.status, failed.failure_code) == ("failed", code), iban
        assert failed.failure_message and failed.trace_id.status == "unsupported"
        returned = psp.v1.balance_transactions.retrieve(failed.failure_balance_transaction, options=as_seller)
        assert (returned.type, returned.amount, returned.source) == ("payout_failure", 1000, failed.id)
        assert available(psp, account.id) == {"eur": 1000}
        bank = psp.v1.accounts.external_accounts.retrieve(account.id, failed.destination)
        assert bank.status == "errored"
    some = sellers["DE62370400440532013001"]
    wait_event(receiver, some.id, "payout.failed")
    updated = wait_event(receiver, some.id, "account.external_account.updated")[-1]
    assert (updated["data"]["object"]["status"], updated["data"]["previous_attributes"]) == ("errored",
                                                                                              {"status": "new"})
    fixed = psp.v1.accounts.external_accounts.update(some.id, updated["data"]["object"]["id"],
                                                     params={"account_holder_name": "Seller AG"})
    assert fixed.status == "new"


def test_late_failure_paid_then_failed_a_day_later(psp, sandbox, receiver):
    account, _ = paid_seller(psp, sandbox.url, 1500, iban=LATE_FAILURE_IBAN)
    as_seller = {"stripe_account": account.id}
    payout = psp.v1.payouts.create(params={"amount": 1500, "currency": "eur"}, options=as_seller)
    advance_clock(sandbox.url, DAY + 3600)
    paid = psp.v1.payouts.retrieve(payout.id, options=as_seller)
    assert (paid.status, paid.trace_id.status) == ("paid", "supported") and paid.trace_id.value
    assert available(psp, account.id) == {"eur": 0}
    advance_clock(sandbox.url, DAY)
    failed = psp.v1.payouts.retrieve(payout.id, options=as_seller)
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    assert available(psp, account.id) == {"eur": 1500}
    wait_event(receiver, account.id, "payout.failed")
    order = [e["type"] for e in events_for(receiver, account.id) if e["type"] in ("payout.paid", "payout.failed")]
    assert order == ["payout.paid", "payout.failed"]
    last_update = [e for e in events_for(receiver, account.id, "payout.updated")][-1]
    assert last_update["data"]["previous_attributes"]["status"] == "paid"


def test_negative_balance_from_a_debit_is_recovered_by_the_next_transfer(psp, sandbox):
    account, transfer = paid_seller(psp, sandbox.url, 1000)
    status, debit = control(sandbox.url, f"{account.id}/debit", {"amount": 1600, "description": "Refund order A"})
    assert status == 200 and debit["destination"] != account.id
    balance = psp.v1.balance.retrieve(options={"stripe_account": account.id})
    assert_valid(balance)
    assert balance.available[0].amount == -600
    platform = psp.v1.balance.retrieve()
    assert_valid(platform)
    assert {r.currency: r.amount for r in platform.connect_reserved}["eur"] >= 600
    with pytest.raises(stripe.InvalidRequestError) as refused:
        psp.v1.transfers.reversals.create(transfer.id, params={"amount": 100})
    assert refused.value.code == "balance_insufficient"
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.payouts.create(params={"amount": 100, "currency": "eur"}, options={"stripe_account": account.id})
    psp.v1.transfers.create(params={"amount": 1000, "currency": "eur", "destination": account.id})
    assert available(psp, account.id) == {"eur": 400}
    assert control(sandbox.url, f"{account.id}/debit", {"amount": 0})[0] == 400


def test_fault_injection_covers_the_connect_endpoints(psp, sandbox):
    account, transfer = paid_seller(psp, sandbox.url, 500)
    set_faults(sandbox.url, {"api": [{"path_prefix": f"/v1/transfers/{transfer.id}/reversals", "error_rate": 1.0,
                                      "error_kinds": ["503"]}]})
    try:
        with pytest.raises(stripe.APIError) as raised:
            psp.v1.transfers.reversals.create(transfer.id)
        assert raised.value.http_status == 503
        assert psp.v1.accounts.retrieve(account.id).id == account.id, "other paths work"
    finally:
        clear_faults(sandbox.url)
    assert psp.v1.transfers.reversals.create(transfer.id).amount == 500
    response = requests.get(f"{sandbox.url}/v1/accounts/{account.id}/external_accounts",
                            headers={"Authorization": "Bearer sk_test_x"}, timeout=10)
    assert response.status_code == 200 and response.json()["object"] == "list"


@pytest.mark.parametrize("event_type", ["transfer.reversed", "payout.canceled", "account.external_account.created"])
def test_trigger_connect_events(sandbox, receiver, event_type):
    done = subprocess.run(python("-m", "psp_sandbox", "trigger", event_type, "--api", sandbox.url),
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    receiver.wait_for(lambda events: any(e["type"] == event_type for e in events))
