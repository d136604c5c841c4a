"""Strict like Stripe, over HTTP: unknown and unsupported parameters, error codes and bracket paths, the
idempotency key in use, one API version, and controls that refuse nonsense."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import stripe

from tests.support.sandbox import (
    API_KEY,
    advance_clock,
    checkout_params,
    clear_faults,
    pay_session,
    sandbox_now,
    set_faults,
)
from tests.support.stripe_schema import assert_valid, assert_valid_response

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _paid_intent(psp, sandbox) -> str:
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    assert pay_session(sandbox.url, session.id)["status"] == "succeeded"
    return psp.v1.checkout.sessions.retrieve(session.id).payment_intent


def test_a_typo_refunds_nothing(psp, sandbox):
    intent = _paid_intent(psp, sandbox)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.refunds.create(params={"payment_intent": intent, "amout": 100})  # type: ignore[typeddict-unknown-key]
    error = raised.value.json_body["error"]
    assert (error["code"], error["param"], error["message"]) == (
        "parameter_unknown", "amout", "Received unknown parameter: amout")
    assert_valid_response(raised.value.json_body, "POST /v1/refunds", "default")
    assert psp.v1.refunds.list(params={"payment_intent": intent}).data == []


def test_unknown_nested_parameter_names_its_bracket_path(psp):
    items = [{"price_data": {"currency": "eur", "unit_amunt": 100, "product_data": {"name": "x"}}, "quantity": 1}]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.checkout.sessions.create(params=checkout_params(line_items=items))
    assert raised.value.param == "line_items[0][price_data][unit_amunt]"
    assert raised.value.code == "parameter_unknown"


@pytest.mark.parametrize("extra", [
    {"application_fee_amount": 100},
    {"transfer_data": {"destination": "acct_1"}},
    {"on_behalf_of": "acct_1"},
])
def test_connect_parameters_the_sandbox_lacks_are_refused(psp, extra):
    params = checkout_params()
    params["payment_intent_data"] = {**params["payment_intent_data"], **extra}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.checkout.sessions.create(params=params)
    name = next(iter(extra))
    assert raised.value.param == f"payment_intent_data[{name}]"
    assert raised.value.code is None and "does not support" in str(raised.value.user_message)


@pytest.mark.parametrize(("item", "param", "code"), [
    ({"price_data": {"currency": "eur", "unit_amount": "ten", "product_data": {"name": "x"}}, "quantity": 1},
     "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
    ({"price_data": {"currency": "eur", "unit_amount": -5, "product_data": {"name": "x"}}, "quantity": 1},
     "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
    ({"price_data": {"currency": "eur", "unit_amount": 5, "product_data": {}}, "quantity": 1},
     "line_items[0][price_data][product_data][name]", "parameter_missing"),
    ({"price_data": {"currency": "eur", "unit_amount": 5, "product_data": {"name": "  "}}, "quantity": 1},
     "line_items[0][price_data][product_data][name]", "parameter_invalid_string_blank"),
    ({"price_data": {"currency": "eur", "unit_amount": 5, "product_data": {"name": "x"}}, "quantity": 0},
     "line_items[0][quantity]", "parameter_invalid_integer"),
])
def test_errors_carry_stripes_code_and_full_path(psp, item, param, code):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.checkout.sessions.create(params=checkout_params(line_items=[checkout_params()["line_items"][0], item]))
    assert (raised.value.param, raised.value.code) == (param.replace("[0]", "[1]", 1), code)


def test_empty_strings_unset_only_what_can_be_unset(sandbox):
    form = {"success_url": "", "line_items[0][price_data][currency]": "eur", "line_items[0][quantity]": "1",
            "line_items[0][price_data][unit_amount]": "100", "line_items[0][price_data][product_data][name]": "x"}
    answer = requests.post(f"{sandbox.url}/v1/checkout/sessions", data=form, headers=AUTH, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "parameter_invalid_empty"
    answer = requests.post(f"{sandbox.url}/v1/checkout/sessions", headers=AUTH, timeout=10,
                           data={**form, "success_url": "http://127.0.0.1:9/ok", "metadata[gone]": ""})
    assert answer.status_code == 200 and answer.json()["metadata"] == {}


def test_query_parameters_are_strict_too(sandbox):
    for query, param, code in (("limit=abc", "limit", "parameter_invalid_integer"),
                               ("chrage=ch_1", "chrage", "parameter_unknown"),
                               ("created[gte]=yesterday", "created[gte]", "parameter_invalid_integer")):
        answer = requests.get(f"{sandbox.url}/v1/refunds?{query}", headers=AUTH, timeout=10)
        assert answer.status_code == 400, query
        assert (answer.json()["error"]["param"], answer.json()["error"].get("code")) == (param, code)
    missing = requests.get(f"{sandbox.url}/v1/refunds/re_nothing", headers=AUTH, timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"


def test_same_idempotency_key_while_the_first_request_runs_is_409(psp, sandbox):
    set_faults(sandbox.url, {"api": [{"path_prefix": "/v1/checkout/sessions", "latency_ms": 1500}]})
    try:
        first: dict = {}
        thread = threading.Thread(target=lambda: first.update(session=psp.v1.checkout.sessions.create(
            params=checkout_params(), options={"idempotency_key": "busy-key"})))
        thread.start()
        time.sleep(0.5)
        second = requests.post(f"{sandbox.url}/v1/checkout/sessions", headers={**AUTH, "Idempotency-Key": "busy-key"},
                               data={"success_url": "http://127.0.0.1:9/ok"}, timeout=10)
        thread.join()
    finally:
        clear_faults(sandbox.url)
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_in_use")
    assert second.headers["Stripe-Should-Retry"] == "true"
    again = psp.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "busy-key"})
    assert again.id == first["session"].id, "once the first is done, the key replays its answer"


def test_one_api_version_everywhere(psp, sandbox, receiver):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    assert session.last_response.headers["Stripe-Version"] == "2023-08-16"  # whatever version the SDK asked for
    pay_session(sandbox.url, session.id)
    events = receiver.wait_for(lambda got: any(e["data"]["object"].get("id") == session.id for e in got))
    assert {e["api_version"] for e in events} == {"2023-08-16"}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        psp.v1.webhook_endpoints.create(params={"url": "http://127.0.0.1:9/x", "enabled_events": ["*"],
                                                "api_version": "2026-06-24.dahlia"})
    assert raised.value.param == "api_version"


def test_charge_refunds_expand_as_in_this_api_version(psp, sandbox):
    intent = _paid_intent(psp, sandbox)
    charge_id = psp.v1.payment_intents.retrieve(intent).latest_charge
    psp.v1.refunds.create(params={"payment_intent": intent, "amount": 100})
    plain = psp.v1.charges.retrieve(charge_id)
    assert "refunds" not in plain, "since 2022-11-15 refunds are only included when expanded"
    expanded = psp.v1.charges.retrieve(charge_id, params={"expand": ["refunds"]})
    assert [r.amount for r in expanded.refunds.data] == [100]
    assert_valid(expanded)


def test_controls_refuse_nonsense_and_keep_working(sandbox):
    before = sandbox_now(sandbox.url)
    for body in ({"seconds": 10**20}, {"seconds": -1}, {"seconds": "60"}, {"seconds": True}, [1]):
        answer = requests.post(f"{sandbox.url}/_sandbox/clock/advance", json=body, timeout=10)
        assert answer.status_code == 400, body
    assert abs(sandbox_now(sandbox.url) - before) < 60
    assert advance_clock(sandbox.url, 60)["now"] >= before + 60
    assert requests.get(f"{sandbox.url}/_sandbox/events?limit=abc", timeout=10).status_code == 400
    for faults in ({"api": [{"latency_ms": "abc"}]}, {"api": [{"error_rate": 2}]}, {"api": "x"}, {"seedx": 1},
                   {"webhooks": {"drop_rate": -1}}, {"api": [{"path_prefix": 5}]}):
        assert requests.post(f"{sandbox.url}/_sandbox/faults", json=faults, timeout=10).status_code == 400, faults
    assert requests.post(f"{sandbox.url}/_sandbox/faults/report", json={"withhold": 5}, timeout=10).status_code == 400
    paying = requests.post(f"{sandbox.url}/_sandbox/checkout/sessions/cs_x/pay", json={"method": 5}, timeout=10)
    assert paying.status_code == 400
    assert requests.get(f"{sandbox.url}/v1/balance", headers=AUTH, timeout=10).status_code == 200
