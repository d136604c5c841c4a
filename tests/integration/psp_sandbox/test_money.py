"""Money movement like Stripe's: refunds, Connect accounts, transfers, payouts, balances and their
balance transactions. Each test uses a sandbox of its own so that balances are exact."""

from __future__ import annotations

import pytest
import stripe

from tests.support.sandbox import (
    WebhookReceiver,
    advance_clock,
    checkout_params,
    pay_session,
    start_sandbox,
    stripe_client,
)
from tests.support.stripe_schema import assert_valid, assert_valid_response

DAY = 86_400
PAYS_IBAN = "DE89370400440532013000"
FAILS_IBAN = "DE62370400440532013001"


@pytest.fixture
def money(tmp_path):
    """(sandbox, client, receiver): a fresh sandbox sending every event to the receiver."""
    receiver = WebhookReceiver()
    process = start_sandbox(tmp_path, webhook_url=receiver.url, webhook_secret="whsec_money_tests")
    yield process, stripe_client(process.url), receiver
    process.stop()
    receiver.close()


def _paid_charge(psp, url, **overrides):
    session = psp.v1.checkout.sessions.create(params=checkout_params(**overrides))
    assert pay_session(url, session.id)["status"] == "succeeded"
    intent = psp.v1.payment_intents.retrieve(psp.v1.checkout.sessions.retrieve(session.id).payment_intent)
    return intent


def _seller(psp, iban=PAYS_IBAN):
    return psp.v1.accounts.create(params={
        "type": "custom", "country": "DE", "email": "seller@example.com",
        "capabilities": {"transfers": {"requested": True}},
        # The platform pays out itself; without this, Stripe (and the sandbox) pays out daily on its own.
        "settings": {"payouts": {"schedule": {"interval": "manual"}}},
        "external_account": {"object": "bank_account", "country": "DE", "currency": "eur",
                             "account_number": iban, "account_holder_name": "Seller GmbH"},
    })


def _amounts(balance):
    return ({a.currency: a.amount for a in balance.available}, {a.currency: a.amount for a in balance.pending})


def test_charge_funds_become_available_after_two_days(money):
    sandbox, psp, receiver = money
    _paid_charge(psp, sandbox.url)
    balance = psp.v1.balance.retrieve()
    assert_valid(balance)
    assert _amounts(balance) == ({"eur": 0}, {"eur": 3563})
    advance_clock(sandbox.url, 2 * DAY)
    assert _amounts(psp.v1.balance.retrieve()) == ({"eur": 3563}, {"eur": 0})
    events = receiver.wait_for(lambda events: any(e["type"] == "balance.available" for e in events))
    announced = next(e for e in events if e["type"] == "balance.available")
    assert_valid(announced)
    assert announced["data"]["object"]["available"][0]["amount"] == 3563


def test_refunds_full_partial_and_limits(money):
    sandbox, psp, receiver = money
    intent = _paid_charge(psp, sandbox.url)
    advance_clock(sandbox.url, 2 * DAY)
    first = psp.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000,
                                          "reason": "requested_by_customer", "metadata": {"order": "A"}},
                                  options={"idempotency_key": "refund-a"})
    assert_valid(first)
    assert (first.amount, first.status, first.charge, first.payment_intent) == (
        1000, "succeeded", intent.latest_charge, intent.id)
    assert psp.v1.refunds.retrieve(first.id).metadata.to_dict() == {"order": "A"}
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        psp.v1.refunds.create(params={"payment_intent": intent.id, "amount": 2701})
    assert too_much.value.code == "amount_too_large"
    rest = psp.v1.refunds.create(params={"charge": intent.latest_charge})
    assert rest.amount == 2700
    with pytest.raises(stripe.InvalidRequestError) as again:
        psp.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})
    assert again.value.code == "charge_already_refunded"
    listed = psp.v1.refunds.list(params={"payment_intent": intent.id})
    assert_valid_response(listed, "GET /v1/refunds")
    assert [r.id for r in listed.data] == [rest.id, first.id]
    refund_transactions = psp.v1.balance_transactions.list(params={"type": "refund"})
    assert sorted(t.amount for t in refund_transactions.data) == [-2700, -1000]
    # The fee of a refunded charge is not returned: 3563 net - 3700 refunded.
    assert _amounts(psp.v1.balance.retrieve())[0] == {"eur": -137}
    # Deliveries run in parallel: wait for both kinds rather than assume one arrives after the other.
    events = receiver.wait_for(lambda events: sum(e["type"] == "refund.created" for e in events) == 2
                               and sum(e["type"] == "charge.refunded" for e in events) == 2)
    # The second refund's event (the charge wholly refunded) may arrive first: tell them apart by what they say.
    charge_events = sorted((e for e in events if e["type"] == "charge.refunded"),
                           key=lambda e: e["data"]["object"]["amount_refunded"])
    assert [e["data"]["object"]["refunded"] for e in charge_events] == [False, True]


def test_refund_of_a_charge_that_bounces(money):
    sandbox, psp, receiver = money
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    paid = pay_session(sandbox.url, session.id, card_number="4000000000005126")["session"]
    refund = psp.v1.refunds.create(params={"payment_intent": paid["payment_intent"]})
    assert refund.status == "succeeded"
    advance_clock(sandbox.url, 3600)
    failed = psp.v1.refunds.retrieve(refund.id)
    assert_valid(failed)
    assert failed.status == "failed" and failed.failure_balance_transaction
    receiver.wait_for(lambda events: any(e["type"] == "refund.failed" for e in events))


def test_connect_accounts(money):
    _, psp, _ = money
    account = _seller(psp)
    assert_valid(account)
    assert (account.type, account.country, account.default_currency) == ("custom", "DE", "eur")
    bank = account.external_accounts.data[0]
    assert_valid(bank, "bank_account")
    assert (bank.last4, bank.country, bank.currency) == ("3000", "DE", "eur")
    assert_valid(psp.v1.accounts.retrieve(account.id))
    listed = psp.v1.accounts.list()
    assert_valid_response(listed, "GET /v1/accounts")
    assert [a.id for a in listed.data] == [account.id]
    with pytest.raises(stripe.InvalidRequestError) as bad_iban:
        _seller(psp, iban="DE00370400440532013000")
    assert bad_iban.value.param == "external_account[account_number]"


def test_transfer_without_funds_fails_then_succeeds_from_available_balance(money):
    sandbox, psp, receiver = money
    seller = _seller(psp)
    _paid_charge(psp, sandbox.url)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.transfers.create(params={"amount": 1000, "currency": "eur", "destination": seller.id})
    assert raised.value.code == "balance_insufficient"
    assert "insufficient funds" in raised.value.user_message
    advance_clock(sandbox.url, 2 * DAY)
    transfer = psp.v1.transfers.create(params={"amount": 1000, "currency": "eur", "destination": seller.id,
                                               "transfer_group": "event_1", "metadata": {"order": "A"}})
    assert_valid(transfer)
    assert transfer.source_transaction is None and transfer.destination_payment.startswith("py_")
    assert _amounts(psp.v1.balance.retrieve()) == ({"eur": 2563}, {"eur": 0})
    seller_balance = psp.v1.balance.retrieve(options={"stripe_account": seller.id})
    assert _amounts(seller_balance) == ({"eur": 1000}, {"eur": 0})
    receiver.wait_for(lambda events: any(e["type"] == "transfer.created" for e in events))


def test_transfers_funded_by_a_charge_split_across_sellers(money):
    sandbox, psp, _ = money
    seller_a, seller_b = _seller(psp), _seller(psp)
    intent = _paid_charge(psp, sandbox.url)
    charge = intent.latest_charge
    for seller, amount in ((seller_a, 2000), (seller_b, 1000)):
        transfer = psp.v1.transfers.create(params={
            "amount": amount, "currency": "eur", "destination": seller.id, "transfer_group": "event_1",
            "source_transaction": charge, "metadata": {"order": seller.id}})
        assert transfer.source_transaction == charge
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.transfers.create(params={"amount": 701, "currency": "eur", "destination": seller_a.id,
                                        "source_transaction": charge})
    grouped = psp.v1.transfers.list(params={"transfer_group": "event_1"})
    assert_valid_response(grouped, "GET /v1/transfers")
    assert sorted(t.amount for t in grouped.data) == [1000, 2000]
    # Funded by a pending charge, the sellers' money is pending until the charge's funds are available.
    assert _amounts(psp.v1.balance.retrieve(options={"stripe_account": seller_a.id})) == ({"eur": 0}, {"eur": 2000})
    assert _amounts(psp.v1.balance.retrieve()) == ({"eur": 0}, {"eur": 563})
    advance_clock(sandbox.url, 2 * DAY)
    assert _amounts(psp.v1.balance.retrieve(options={"stripe_account": seller_a.id})) == ({"eur": 2000}, {"eur": 0})
    assert _amounts(psp.v1.balance.retrieve()) == ({"eur": 563}, {"eur": 0})


@pytest.mark.parametrize(("iban", "status", "code"), [(PAYS_IBAN, "paid", None), (FAILS_IBAN, "failed", "no_account")])
def test_connected_account_payout(money, iban, status, code):
    sandbox, psp, receiver = money
    seller = _seller(psp, iban)
    intent = _paid_charge(psp, sandbox.url)
    psp.v1.transfers.create(params={"amount": 3000, "currency": "eur", "destination": seller.id,
                                    "source_transaction": intent.latest_charge})
    as_seller = {"stripe_account": seller.id}
    with pytest.raises(stripe.InvalidRequestError) as early:
        psp.v1.payouts.create(params={"amount": 3000, "currency": "eur"}, options=as_seller)
    assert early.value.code == "balance_insufficient"
    advance_clock(sandbox.url, 2 * DAY)
    payout = psp.v1.payouts.create(params={"amount": 2500, "currency": "eur", "metadata": {"run": "1"}},
                                   options=as_seller)
    assert_valid(payout)
    assert (payout.status, payout.destination) == ("pending", seller.external_accounts.data[0].id)
    assert _amounts(psp.v1.balance.retrieve(options=as_seller))[0] == {"eur": 500}
    advance_clock(sandbox.url, 3600)
    assert psp.v1.payouts.retrieve(payout.id, options=as_seller).status == "in_transit"
    advance_clock(sandbox.url, DAY)
    done = psp.v1.payouts.retrieve(payout.id, options=as_seller)
    assert_valid(done)
    assert (done.status, done.failure_code) == (status, code)
    assert _amounts(psp.v1.balance.retrieve(options=as_seller))[0] == {"eur": 500 if status == "paid" else 3000}
    events = receiver.wait_for(lambda events: any(e["type"] == f"payout.{status}" for e in events))
    event = next(e for e in events if e["type"] == f"payout.{status}")
    assert_valid(event)
    assert event["account"] == seller.id
    listed = psp.v1.payouts.list(options=as_seller)
    assert_valid_response(listed, "GET /v1/payouts")
    assert [p.id for p in listed.data] == [payout.id]
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.payouts.retrieve(payout.id)  # not the platform's payout


def test_platform_payout(money):
    sandbox, psp, _ = money
    _paid_charge(psp, sandbox.url)
    advance_clock(sandbox.url, 2 * DAY)
    payout = psp.v1.payouts.create(params={"amount": 3000, "currency": "eur"})
    advance_clock(sandbox.url, DAY)
    assert psp.v1.payouts.retrieve(payout.id).status == "paid"


def test_balance_transactions_list_and_filters(money):
    sandbox, psp, _ = money
    intent = _paid_charge(psp, sandbox.url)
    psp.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    listed = psp.v1.balance_transactions.list()
    assert_valid_response(listed, "GET /v1/balance_transactions")
    assert [(t.type, t.reporting_category) for t in listed.data] == [("refund", "refund"), ("charge", "charge")]
    charge_only = psp.v1.balance_transactions.list(params={"type": "charge"})
    assert [t.source for t in charge_only.data] == [intent.latest_charge]
    created = listed.data[0].created
    assert len(psp.v1.balance_transactions.list(params={"created": {"gte": created}}).data) == 2
    assert psp.v1.balance_transactions.list(params={"created": {"gt": created}}).data == []
    expanded = psp.v1.balance_transactions.list(params={"expand": ["data.source"], "type": "charge"})
    assert expanded.data[0].source.object == "charge"
