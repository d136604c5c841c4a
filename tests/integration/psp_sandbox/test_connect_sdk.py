"""The marketplace's Connect flow end to end with the official Python SDK, as the gateway drives it: a seller
with an IBAN, its payout schedule, a replaced bank account, transfers and a reversal, failing and late-failing
payouts, a canceled payout and an automatic daily payout itemized through its balance transactions. Webhooks
about the seller reach the Connect endpoint with the event's top-level `account`."""

from __future__ import annotations

from tests.integration.psp_sandbox.connect_support import (
    DAY,
    LATE_FAILURE_IBAN,
    PAYS_IBAN,
    events_for,
    fund_platform,
    wait_event,
)
from tests.support.sandbox import advance_clock
from tests.support.stripe_schema import assert_valid

FAILS_IBAN = "DE62370400440532013001"


def _use_bank(psp, account_id, iban):
    """Add `iban` as the new default bank account and delete the others, as a seller changing banks."""
    new = psp.v1.accounts.external_accounts.create(account_id, params={
        "external_account": {"object": "bank_account", "country": "DE", "currency": "eur", "account_number": iban,
                             "account_holder_name": "Seller GmbH"},
        "default_for_currency": True})
    for bank in psp.v1.accounts.external_accounts.list(account_id).data:
        if bank.id != new.id:
            psp.v1.accounts.external_accounts.delete(account_id, bank.id)
    return new


def test_connect_flow_with_the_python_sdk(psp, sandbox, receiver):
    account = psp.v1.accounts.create(params={
        "type": "custom", "country": "DE", "email": "seller@example.com",
        "business_profile": {"name": "Seller GmbH"}, "capabilities": {"transfers": {"requested": True}},
        "external_account": {"object": "bank_account", "country": "DE", "currency": "eur",
                             "account_number": PAYS_IBAN}})
    assert_valid(account)
    seller = {"stripe_account": account.id}
    account = psp.v1.accounts.update(account.id, params={"settings": {"payouts": {"schedule": {"interval": "manual"}}}})
    assert account.settings.payouts.schedule.interval == "manual"

    failing = _use_bank(psp, account.id, FAILS_IBAN)
    assert [b.id for b in psp.v1.accounts.retrieve(account.id).external_accounts.data] == [failing.id]

    fund_platform(psp, sandbox.url, 10_000)
    transfer = psp.v1.transfers.create(params={"amount": 6000, "currency": "eur", "destination": account.id,
                                               "transfer_group": "order_1"})
    reversal = psp.v1.transfers.reversals.create(transfer.id, params={"amount": 1000})
    assert psp.v1.transfers.retrieve(transfer.id).amount_reversed == reversal.amount == 1000

    failed = psp.v1.payouts.create(params={"amount": 1000, "currency": "eur"}, options=seller)
    advance_clock(sandbox.url, DAY + 3600)
    failed = psp.v1.payouts.retrieve(failed.id, options=seller)
    assert (failed.status, failed.failure_code) == ("failed", "no_account")
    assert psp.v1.accounts.external_accounts.retrieve(account.id, failing.id).status == "errored"
    errored = wait_event(receiver, account.id, "account.external_account.updated")[-1]
    assert errored["data"]["object"]["status"] == "errored"

    _use_bank(psp, account.id, LATE_FAILURE_IBAN)
    late = psp.v1.payouts.create(params={"amount": 1500, "currency": "eur"}, options=seller)
    advance_clock(sandbox.url, DAY + 3600)
    assert psp.v1.payouts.retrieve(late.id, options=seller).status == "paid"
    advance_clock(sandbox.url, DAY)
    assert psp.v1.payouts.retrieve(late.id, options=seller).status == "failed"

    _use_bank(psp, account.id, PAYS_IBAN)
    canceled = psp.v1.payouts.cancel(psp.v1.payouts.create(params={"amount": 700, "currency": "eur"},
                                                           options=seller).id, options=seller)
    assert canceled.status == "canceled"
    assert {b.amount for b in psp.v1.balance.retrieve(options=seller).available} == {5000}

    psp.v1.accounts.update(account.id, params={"settings": {"payouts": {"schedule": {"interval": "daily"}}}})
    advance_clock(sandbox.url, 2 * DAY)
    [automatic] = [p for p in psp.v1.payouts.list(options=seller).data if p.automatic]
    assert (automatic.amount, automatic.status) == (5000, "pending")
    items = psp.v1.balance_transactions.list(params={"payout": automatic.id, "limit": 100}, options=seller).data
    assert sum(t.net for t in items) == 0
    assert {t.type for t in items} >= {"payment", "payment_refund", "payout", "payout_failure", "payout_cancel"}
    assert {b.amount for b in psp.v1.balance.retrieve(options=seller).available} == {0}

    wait_event(receiver, account.id, "payout.created", count=4)
    seen = events_for(receiver, account.id)
    assert all(event["account"] == account.id for event in seen)
    assert {"account.updated", "account.external_account.created", "account.external_account.deleted",
            "payout.created", "payout.paid", "payout.failed", "payout.canceled"} <= {e["type"] for e in seen}
    assert not any(e["type"] == "transfer.reversed" and e.get("account") for e in receiver.events()), \
        "the platform's own events carry no account"
