"""One walk through the new behaviour with nothing but the official SDK, configured as a user would for
Stripe: `StripeClient(key, base_addresses={"api": …, "files": …})`."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest
import requests
import stripe

from tests.support.sandbox import API_KEY, advance_clock, checkout_params, clear_faults, pay_session, set_faults


def test_strict_errors_idempotency_in_use_and_a_report_to_csv(sandbox):
    client = stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url, "files": sandbox.url})

    # Strict errors: a typo is refused with Stripe's code and path, and nothing happens.
    session = client.v1.checkout.sessions.create(params=checkout_params())
    pay_session(sandbox.url, session.id, card_number="4000000000000077")
    intent = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent, "amout": 700})  # type: ignore[typeddict-unknown-key]
    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "amout")
    assert client.v1.payment_intents.retrieve(intent, params={"expand": ["latest_charge"]}) \
        .latest_charge.amount_refunded == 0

    # The same idempotency key while the first request still runs: 409 idempotency_key_in_use.
    set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/refunds", "latency_ms": 1500}]})
    try:
        results: dict = {}
        first = threading.Thread(target=lambda: results.update(refund=client.v1.refunds.create(
            params={"payment_intent": intent, "amount": 700}, options={"idempotency_key": "refund-once"})))
        first.start()
        time.sleep(0.5)
        with pytest.raises(stripe.APIError) as conflict:
            client.v1.refunds.create(params={"payment_intent": intent, "amount": 700},
                                     options={"idempotency_key": "refund-once"})
        first.join()
    finally:
        clear_faults(sandbox.url)
    assert conflict.value.http_status == 409 and conflict.value.code is None  # the SDK keeps code on json_body
    assert conflict.value.json_body["error"]["code"] == "idempotency_key_in_use"
    assert len(client.v1.refunds.list(params={"payment_intent": intent}).data) == 1

    # A report run to a downloaded CSV.
    advance_clock(sandbox.url, 60)
    kind = client.v1.reporting.report_types.retrieve("balance_change_from_activity.itemized.3")
    run = client.v1.reporting.report_runs.create(params={
        "report_type": kind.id,
        "parameters": {"interval_start": kind.data_available_start, "interval_end": kind.data_available_end,
                       "columns": ["reporting_category", "source_id", "gross", "fee", "net"]}})
    while run.status == "pending":
        time.sleep(0.05)
        run = client.v1.reporting.report_runs.retrieve(run.id)
    assert run.status == "succeeded"
    file = client.v1.files.retrieve(run.result.id)
    answer = requests.get(file.url, auth=(API_KEY, ""), timeout=10)
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    refund = results["refund"]
    assert {"reporting_category": "refund", "source_id": refund.id, "gross": "-7.00", "fee": "0.00",
            "net": "-7.00"} in rows
    assert sum(1 for row in rows if row["reporting_category"] == "charge") == 1
