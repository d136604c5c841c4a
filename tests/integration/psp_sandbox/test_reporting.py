"""The Reporting API and files over HTTP with the official SDK: report types, report runs that go pending →
succeeded in the background, the CSV on the files host, events, report faults and API faults."""

from __future__ import annotations

import csv
import io
import time

import pytest
import requests
import stripe

from tests.support.sandbox import (
    API_KEY,
    advance_clock,
    checkout_params,
    clear_faults,
    deliveries,
    pay_session,
    set_faults,
)
from tests.support.stripe_schema import assert_valid, assert_valid_response

TYPES = {"balance.summary.1", "balance_change_from_activity.itemized.3", "payout_reconciliation.itemized.5",
         "connected_account_balance_change_from_activity.itemized.3"}


@pytest.fixture(scope="module")
def client(sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url, "files": sandbox.url})


@pytest.fixture(scope="module")
def activity(client, sandbox) -> dict:
    """Two payments (EUR, JPY), a partial refund, a connected account with a transfer; then a minute passes."""
    paid = {}
    for currency, amount in (("eur", 1500), ("jpy", 1200)):
        items = [{"price_data": {"currency": currency, "unit_amount": amount, "product_data": {"name": "x"}},
                  "quantity": 1}]
        session = client.v1.checkout.sessions.create(params=checkout_params(line_items=items))
        assert pay_session(sandbox.url, session.id, card_number="4000000000000077")["status"] == "succeeded"
        paid[currency] = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    refund = client.v1.refunds.create(params={"payment_intent": paid["eur"], "amount": 500,
                                              "metadata": {"reason_code": "R1"}})
    account = client.v1.accounts.create(params={"type": "custom", "country": "DE",
                                                "business_profile": {"name": "Seller A"}})
    transfer = client.v1.transfers.create(params={"amount": 400, "currency": "eur", "destination": account.id})
    advance_clock(sandbox.url, 60)
    return {"intents": paid, "refund": refund, "account": account, "transfer": transfer}


def _run(client, report_type: str, options: dict | None = None, **parameters) -> stripe.reporting.ReportRun:
    kind = client.v1.reporting.report_types.retrieve(report_type)
    parameters = {"interval_start": kind.data_available_start, "interval_end": kind.data_available_end,
                  **parameters}
    run = client.v1.reporting.report_runs.create(params={"report_type": report_type, "parameters": parameters},
                                                 options=options or {})
    assert run.status == "pending", "the run answers at once and works in the background"
    deadline = time.monotonic() + 20
    while run.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
        run = client.v1.reporting.report_runs.retrieve(run.id, options=options or {})
    return run


def _csv(file: stripe.File, account: str | None = None) -> list[dict]:
    headers = {"Stripe-Account": account} if account else {}
    answer = requests.get(file.url, auth=(API_KEY, ""), headers=headers, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_report_types(client):
    listed = client.v1.reporting.report_types.list()
    assert_valid_response(listed, "GET /v1/reporting/report_types")
    assert {t.id for t in listed.data} == TYPES
    for kind in listed.data:
        assert_valid(kind)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.reporting.report_types.retrieve("balance.nothing.1")
    assert raised.value.code == "resource_missing"


def test_itemized_balance_report_to_csv(client, sandbox, activity, receiver):
    run = _run(client, "balance_change_from_activity.itemized.3")
    assert run.status == "succeeded"
    assert_valid(run)
    assert_valid(run.result)
    assert run.result.purpose == "finance_report_run" and run.result.url.startswith(f"{sandbox.url}/v1/files/")
    file = client.v1.files.retrieve(run.result.id)
    assert_valid(file)
    rows = _csv(file)
    assert list(rows[0]) == ["balance_transaction_id", "created", "available_on", "currency", "gross", "fee", "net",
                             "reporting_category", "description"]
    transactions = {t.id: t for t in client.v1.balance_transactions.list(params={"limit": 100}).data}
    assert {r["balance_transaction_id"] for r in rows} == set(transactions)
    by_category = {(r["reporting_category"], r["currency"]): r for r in rows}
    assert by_category[("charge", "eur")]["gross"] == "15.00"
    assert by_category[("charge", "jpy")]["gross"] == "1200", "JPY has no minor unit"
    assert by_category[("refund", "eur")]["net"] == "-5.00"
    assert by_category[("transfer", "eur")]["net"] == "-4.00"
    events = receiver.wait_for(lambda got: any(e["type"] == "reporting.report_run.succeeded"
                                               and e["data"]["object"]["id"] == run.id for e in got))
    assert_valid(next(e for e in events if e["data"]["object"]["id"] == run.id))
    assert requests.get(file.url, timeout=10).status_code == 401, "contents need the secret key"
    assert client.v1.reporting.report_runs.list().data[0].id == run.id


def test_columns_and_filters(client, activity):
    refund = activity["refund"]
    run = _run(client, "balance_change_from_activity.itemized.3", reporting_category="refund", currency="eur",
               columns=["source_id", "net", "charge_id", "payment_intent_id", "refund_metadata[reason_code]"])
    rows = _csv(run.result)
    assert rows == [{"source_id": refund.id, "net": "-5.00", "charge_id": refund.charge,
                     "payment_intent_id": activity["intents"]["eur"], "refund_metadata[reason_code]": "R1"}]


def test_connected_accounts_report(client, activity):
    account = activity["account"]
    run = _run(client, "connected_account_balance_change_from_activity.itemized.3", connected_account=account.id,
               columns=["connected_account", "source_id", "net", "connected_account_name"])
    assert _csv(run.result) == [{"connected_account": account.id, "source_id": activity["transfer"].destination_payment,
                                 "net": "4.00", "connected_account_name": "Seller A"}]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.reporting.report_runs.create(params={
            "report_type": "connected_account_balance_change_from_activity.itemized.3",
            "parameters": {"interval_start": 1, "interval_end": 2}}, options={"stripe_account": account.id})
    assert raised.value.param == "report_type"


def test_balance_summary(client, activity):
    rows = _csv(_run(client, "balance.summary.1", currency="eur").result)
    assert [r["category"] for r in rows] == ["starting_balance", "activity", "payouts", "ending_balance"]
    amounts = {r["category"]: float(r["net_amount"]) for r in rows}
    assert amounts["ending_balance"] == amounts["starting_balance"] + amounts["activity"] + amounts["payouts"]
    balance = client.v1.balance.retrieve()
    eur = next(a.amount for a in balance.available if a.currency == "eur")
    eur += next(a.amount for a in balance.pending if a.currency == "eur")
    assert round(amounts["ending_balance"] * 100) == eur


@pytest.mark.parametrize(("parameters", "param"), [
    ({"interval_end": 10}, "parameters[interval_start]"),
    ({"interval_start": 10**10, "interval_end": 10**10 + 1}, "parameters[interval_end]"),
    ({"interval_start": 5, "interval_end": 4}, "parameters[interval_start]"),
    ({"interval_start": 1, "interval_end": 2, "columns": ["gross", "grosss"]}, "parameters[columns][1]"),
    ({"interval_start": 1, "interval_end": 2, "connected_account": "acct_1"}, "parameters[connected_account]"),
    ({"interval_start": 1, "interval_end": 2, "reporting_category": "charges"}, "parameters[reporting_category]"),
    ({"interval_start": 1, "interval_end": 2, "timezone": "Mars/Olympus"}, "parameters[timezone]"),
    ({"interval_start": "soon", "interval_end": 2}, "parameters[interval_start]"),
])
def test_run_parameters_are_checked(client, parameters, param):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.reporting.report_runs.create(params={"report_type": "balance_change_from_activity.itemized.3",
                                                       "parameters": parameters})
    assert raised.value.param == param


def test_report_faults_withhold_and_duplicate_rows_of_the_next_run(client, sandbox, activity):
    charge = client.v1.payment_intents.retrieve(activity["intents"]["jpy"]).latest_charge
    refund_txn = client.v1.refunds.retrieve(activity["refund"].id).balance_transaction
    fault = requests.post(f"{sandbox.url}/_sandbox/faults/report",
                          json={"withhold": [charge], "duplicate": refund_txn}, timeout=10)
    assert fault.json() == {"withhold": [charge], "duplicate": [refund_txn], "runs": "next"}
    columns = ["balance_transaction_id", "source_id"]
    faulty = _csv(_run(client, "balance_change_from_activity.itemized.3", columns=columns).result)
    normal = _csv(_run(client, "balance_change_from_activity.itemized.3", columns=columns).result)
    assert charge not in {r["source_id"] for r in faulty} and charge in {r["source_id"] for r in normal}
    assert [r["balance_transaction_id"] for r in faulty].count(refund_txn) == 2
    assert [r["balance_transaction_id"] for r in normal].count(refund_txn) == 1
    assert len(faulty) == len(normal)
    requests.post(f"{sandbox.url}/_sandbox/faults/report", json={"withhold": [refund_txn], "runs": "all"}, timeout=10)
    for _ in range(2):
        rows = _csv(_run(client, "balance_change_from_activity.itemized.3", columns=columns).result)
        assert refund_txn not in {r["balance_transaction_id"] for r in rows}
    assert requests.delete(f"{sandbox.url}/_sandbox/faults/report", timeout=10).json()["withhold"] == []


def test_api_and_webhook_faults_apply_to_reporting_and_files(client, sandbox, activity):
    set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/reporting/report_runs", "error_rate": 1.0,
                                      "error_kinds": ["503"]}], "webhooks": {"drop_rate": 1.0}})
    try:
        with pytest.raises(stripe.APIError) as raised:
            client.v1.reporting.report_runs.create(params={"report_type": "balance.summary.1",
                                                           "parameters": {"interval_start": 1, "interval_end": 2}})
        assert raised.value.http_status == 503
        set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/files", "error_rate": 1.0, "error_kinds": ["500"]}],
                                 "webhooks": {"drop_rate": 1.0}})
        run = _run(client, "balance.summary.1")
        assert run.status == "succeeded"
        assert requests.get(run.result.url, auth=(API_KEY, ""), timeout=10).status_code == 500
        event = client.v1.events.list(params={"type": "reporting.report_run.succeeded", "limit": 1}).data[0]
        assert event.data.object.id == run.id
        assert {d["status"] for d in deliveries(sandbox.url, event.id)} == {"dropped"}
    finally:
        clear_faults(sandbox.url)
    assert len(_csv(run.result)) == 8, "four lines per currency (EUR, JPY)"


def test_payout_reconciliation_itemizes_an_automatic_payout(client, sandbox):
    account = client.v1.accounts.create(params={"type": "custom", "country": "DE", "external_account": {
        "object": "bank_account", "country": "DE", "currency": "eur", "account_number": "DE89370400440532013000"}})
    session = client.v1.checkout.sessions.create(params=checkout_params())
    pay_session(sandbox.url, session.id, card_number="4000000000000077")
    transfer = client.v1.transfers.create(params={"amount": 1200, "currency": "eur", "destination": account.id})
    advance_clock(sandbox.url, 5 * 86_400)
    acting = {"stripe_account": account.id}
    payouts = client.v1.payouts.list(options=acting).data
    assert [p.automatic for p in payouts] == [True] and payouts[0].amount == 1200
    advance_clock(sandbox.url, 2 * 86_400)  # the report lists payouts by arrival, which must be in the past
    run = _run(client, "payout_reconciliation.itemized.5", acting,
               columns=["automatic_payout_id", "balance_transaction_id", "source_id", "net", "reporting_category"])
    rows = _csv(run.result, account.id)  # a connected account's file is read as that account, as on Stripe
    assert [(r["automatic_payout_id"], r["source_id"], r["net"]) for r in rows] == [
        (payouts[0].id, transfer.destination_payment, "12.00")]
    listed = client.v1.balance_transactions.list(params={"payout": payouts[0].id}, options=acting).data
    assert {r["balance_transaction_id"] for r in rows} <= {t.id for t in listed}
