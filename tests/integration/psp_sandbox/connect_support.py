"""Helpers shared by the Connect tests: sellers with a test IBAN, platform funds, the sandbox's Connect
controls, and reading the webhooks a receiver got for one account."""

from __future__ import annotations

import datetime

import requests

from tests.support.sandbox import checkout_params, pay_session

DAY = 86_400
PAYS_IBAN = "DE89370400440532013000"
LATE_FAILURE_IBAN = "DE35370400440532013099"
# Every failing test IBAN and its failure code (docs/psp-sandbox.md lists them).
FAILING_IBANS = {
    "DE62370400440532013001": "no_account",
    "DE35370400440532013002": "account_closed",
    "DE08370400440532013003": "insufficient_funds",
    "DE78370400440532013004": "debit_not_authorized",
    "DE51370400440532013005": "invalid_currency",
    "DE24370400440532013006": "invalid_account_number",
    "DE94370400440532013007": "bank_account_restricted",
    "DE67370400440532013008": "account_frozen",
    "DE40370400440532013009": "could_not_process",
    "DE13370400440532013010": "declined",
    "DE83370400440532013011": "incorrect_account_holder_name",
    "DE56370400440532013012": "bank_ownership_changed",
}


def seller(psp, iban=PAYS_IBAN, interval="manual", **extra):
    """A Custom account in Germany with `iban` as its bank account and the given payout interval."""
    params = {
        "type": "custom", "country": "DE", "email": "seller@example.com",
        "business_profile": {"name": "Seller GmbH"}, "capabilities": {"transfers": {"requested": True}},
        "settings": {"payouts": {"schedule": {"interval": interval}}},
        "external_account": {"object": "bank_account", "country": "DE", "currency": "eur", "account_number": iban,
                             "account_holder_name": "Seller GmbH"},
    }
    params.update(extra)
    return psp.v1.accounts.create(params=params)


def fund_platform(psp, url, amount=10_000):
    """Platform funds available at once: a payment with 4000 0000 0000 0077 (funds go straight to available)."""
    session = psp.v1.checkout.sessions.create(params=checkout_params(line_items=[
        {"price_data": {"currency": "eur", "unit_amount": amount, "product_data": {"name": "Funds"}}, "quantity": 1}]))
    assert pay_session(url, session.id, card_number="4000000000000077")["status"] == "succeeded"


def paid_seller(psp, url, amount, iban=PAYS_IBAN, interval="manual", **extra):
    """A seller holding `amount` available, sent by a transfer from the platform's available funds."""
    account = seller(psp, iban, interval, **extra)
    fund_platform(psp, url, amount + 1000)
    transfer = psp.v1.transfers.create(params={"amount": amount, "currency": "eur", "destination": account.id})
    return account, transfer


def available(psp, account_id=None):
    options = {"stripe_account": account_id} if account_id else {}
    return {a.currency: a.amount for a in psp.v1.balance.retrieve(options=options).available}


def control(url, path, body=None):
    response = requests.post(f"{url}/_sandbox/accounts/{path}", json=body or {}, timeout=10)
    return response.status_code, response.json()


def events_for(receiver, account_id, type_=None):
    """Events the receiver got about one connected account, oldest first."""
    return [e for e in receiver.events() if e.get("account") == account_id and (type_ is None or e["type"] == type_)]


def wait_event(receiver, account_id, type_, count=1):
    receiver.wait_for(lambda _: len(events_for(receiver, account_id, type_)) >= count)
    return events_for(receiver, account_id, type_)


def seconds_until(now, weekday=None, day=None, hour=1):
    """Seconds from `now` to `hour`:00 UTC on the next given weekday (0 = Monday) or day of the month."""
    moment = datetime.datetime.fromtimestamp(now, datetime.UTC)
    target = moment.replace(hour=hour, minute=0, second=0, microsecond=0)
    while target <= moment or (weekday is not None and target.weekday() != weekday) or (
            day is not None and target.day != day):
        target += datetime.timedelta(days=1)
    return int(target.timestamp()) - now
