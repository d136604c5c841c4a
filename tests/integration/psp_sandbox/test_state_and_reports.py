"""Persistence across restarts, `--reset`, settlement files and the command line (`trigger`, `listen`)."""

from __future__ import annotations

import csv
import datetime
import io
import subprocess
import sys
import time

import requests
import stripe

from tests.support.processes import ROOT, python, start
from tests.support.sandbox import (
    WebhookReceiver,
    advance_clock,
    checkout_params,
    pay_session,
    sandbox_now,
    start_sandbox,
    stripe_client,
)

DAY = 86_400


def test_restart_keeps_state_and_reset_clears_it(tmp_path):
    first = start_sandbox(tmp_path)
    psp = stripe_client(first.url)
    session = psp.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "before"})
    pay_session(first.url, session.id)
    advance_clock(first.url, 3 * DAY)
    offset = requests.get(f"{first.url}/_sandbox/clock", timeout=10).json()["offset"]
    first.stop()

    second = start_sandbox(tmp_path, db_path=first.extra["db_path"], webhook_url="http://127.0.0.1:9/hook",
                           webhook_secret="whsec_restart")
    second.stop()
    second = start_sandbox(tmp_path, db_path=first.extra["db_path"], webhook_url="http://127.0.0.1:9/hook",
                           webhook_secret="whsec_restart")
    try:
        psp = stripe_client(second.url)
        endpoints = psp.v1.webhook_endpoints.list().data
        assert len(endpoints) == 2, "--webhook-url ensures one platform and one Connect endpoint, once"
        assert psp.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
        assert requests.get(f"{second.url}/_sandbox/clock", timeout=10).json()["offset"] == offset
        assert psp.v1.balance.retrieve().available[0].amount == 3563
        again = psp.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "before"})
        assert again.id == session.id, "idempotency keys survive restarts"
    finally:
        second.stop()

    third = start_sandbox(tmp_path, db_path=first.extra["db_path"], extra_args=("--reset",))
    try:
        try:
            stripe_client(third.url).v1.checkout.sessions.retrieve(session.id)
            raise AssertionError("--reset must clear the sessions")
        except stripe.InvalidRequestError:
            pass
    finally:
        third.stop()


def _report(url, day, **params):
    response = requests.get(f"{url}/_sandbox/reports/balance_change_from_activity.itemized/{day}.csv",
                            params=params, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text))), response.text.splitlines()[0].split(",")


def test_settlement_file_for_the_platform_and_a_connected_account(fresh_sandbox):
    url = fresh_sandbox.url
    psp = stripe_client(url)
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    intent_id = pay_session(url, session.id)["session"]["payment_intent"]
    charge_id = psp.v1.payment_intents.retrieve(intent_id).latest_charge
    psp.v1.refunds.create(params={"payment_intent": intent_id, "amount": 700, "metadata": {"reason": "B"}})
    seller = psp.v1.accounts.create(params={"type": "custom", "country": "DE", "business_profile": {"name": "Seller A"},
                                            "external_account": {"object": "bank_account",
                                                                 "account_number": "DE89370400440532013000"}})
    transfer = psp.v1.transfers.create(params={"amount": 2000, "currency": "eur", "destination": seller.id,
                                               "source_transaction": charge_id, "metadata": {"order": "A"}})
    day = datetime.datetime.fromtimestamp(sandbox_now(url), datetime.UTC).date().isoformat()
    rows, header = _report(url, day)
    for column in ("balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
                   "reporting_category", "source_id", "charge_id", "payment_intent_id", "card_brand",
                   "connected_account_id", "customer_email", "card_address_country"):
        assert column in header
    by_category = {row["reporting_category"]: row for row in rows}
    charge = by_category["charge"]
    assert (charge["gross"], charge["fee"], charge["net"], charge["currency"]) == ("37.00", "1.37", "35.63", "eur")
    assert (charge["source_id"], charge["payment_intent_id"], charge["card_brand"]) == (charge_id, intent_id, "visa")
    assert charge["payment_metadata[payment_event]"] == "1"
    refund = by_category["refund"]
    assert (refund["gross"], refund["charge_id"], refund["refund_metadata[reason]"]) == ("-7.00", charge_id, "B")
    sent = by_category["transfer"]
    assert (sent["gross"], sent["source_id"], sent["connected_account_id"]) == ("-20.00", transfer.id, seller.id)
    assert sent["connected_account_name"] == "Seller A" and sent["transfer_metadata[order]"] == "A"
    seller_rows, _ = _report(url, day, account=seller.id)
    assert [(r["gross"], r["reporting_category"]) for r in seller_rows] == [("20.00", "charge")]
    tomorrow = (datetime.date.fromisoformat(day) + datetime.timedelta(days=1)).isoformat()
    assert _report(url, tomorrow)[0] == []


def test_trigger_and_listen(sandbox, receiver, tmp_path):
    forwarded = WebhookReceiver()
    listener = start("listen", python("-m", "psp_sandbox", "listen", "--api", sandbox.url, "--forward-to",
                                      forwarded.url, "--secret", "whsec_listen"), tmp_path)
    try:
        _wait_until_ready(listener)
        for event_type in ("checkout.session.completed", "payout.failed"):
            done = subprocess.run(python("-m", "psp_sandbox", "trigger", event_type, "--api", sandbox.url),
                                  cwd=ROOT, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert "Trigger succeeded" in done.stdout
            receiver.wait_for(lambda events, t=event_type: any(e["type"] == t for e in events))
        events = forwarded.wait_for(lambda events: any(e["type"] == "payout.failed" for e in events))
        headers, body = forwarded.requests[0]
        stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], "whsec_listen")
        assert any(e["type"] == "checkout.session.completed" for e in events)
        assert "--> checkout.session.completed" in listener.log_path.read_text()
    finally:
        listener.stop()
        forwarded.close()


def _wait_until_ready(listener, timeout=20.0):
    deadline = time.monotonic() + timeout
    while "Ready!" not in listener.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_trigger_lists_supported_events(sandbox):
    done = subprocess.run([sys.executable, "-m", "psp_sandbox", "trigger", "list", "--api", sandbox.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "payout.paid" in done.stdout
