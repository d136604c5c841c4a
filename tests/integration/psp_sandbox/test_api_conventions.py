"""Stripe's conventions: API keys, Stripe-Account, idempotency keys, errors, pagination, events, endpoints."""

from __future__ import annotations

import pytest
import requests
import stripe

from tests.support.sandbox import checkout_params, pay_session, stripe_client
from tests.support.stripe_schema import assert_valid, assert_valid_response


def test_only_test_secret_keys_are_accepted(sandbox):
    with pytest.raises(stripe.AuthenticationError) as raised:
        stripe_client(sandbox.url, api_key="sk_live_abcdef123456").v1.balance.retrieve()
    assert raised.value.http_status == 401
    assert_valid_response(raised.value.json_body, "GET /v1/balance", "default")
    missing = requests.get(f"{sandbox.url}/v1/balance", timeout=10)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "invalid_request_error"
    assert stripe_client(sandbox.url, api_key="sk_test_anything").v1.balance.retrieve().object == "balance"


def test_unknown_connected_account_is_refused(psp):
    with pytest.raises(stripe.PermissionError) as raised:
        psp.v1.balance.retrieve(options={"stripe_account": "acct_unknown"})
    assert raised.value.json_body["error"]["code"] == "account_invalid"


def test_unknown_url_is_a_stripe_404(sandbox):
    response = requests.get(f"{sandbox.url}/v1/nothing_here", headers={"Authorization": "Bearer sk_test_x"},
                            timeout=10)
    assert response.status_code == 404
    assert "Unrecognized request URL" in response.json()["error"]["message"]


def test_idempotent_replay_returns_the_first_response(psp):
    first = psp.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "same-key"})
    again = psp.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "same-key"})
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(psp.v1.checkout.sessions.list(params={"client_reference_id": "payment_event_1", "limit": 100})
               .data) >= 1


def test_idempotency_key_with_other_parameters_is_an_error(psp):
    psp.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "mismatch-key"})
    with pytest.raises(stripe.IdempotencyError) as raised:
        psp.v1.checkout.sessions.create(params=checkout_params(client_reference_id="other"),
                                        options={"idempotency_key": "mismatch-key"})
    assert raised.value.http_status == 400
    assert_valid_response(raised.value.json_body, "POST /v1/checkout/sessions", "default")


def test_failed_validation_is_not_stored_under_the_key(psp):
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.checkout.sessions.create(params=checkout_params(success_url=None),
                                        options={"idempotency_key": "retry-after-fix"})
    fixed = psp.v1.checkout.sessions.create(params=checkout_params(success_url=None) | {
        "success_url": "http://127.0.0.1:9/ok"}, options={"idempotency_key": "retry-after-fix-2"})
    assert fixed.status == "open"


def test_pagination_over_more_than_a_hundred_objects(psp):
    created = [psp.v1.checkout.sessions.create(params=checkout_params(client_reference_id="paged")).id
               for _ in range(105)]
    first = psp.v1.checkout.sessions.list(params={"client_reference_id": "paged", "limit": 100})
    assert_valid_response(first, "GET /v1/checkout/sessions")
    assert first.has_more and len(first.data) == 100
    assert [s.id for s in first.data] == created[::-1][:100], "newest first"
    everything = [s.id for s in first.auto_paging_iter()]
    assert everything == created[::-1]
    before = psp.v1.checkout.sessions.list(params={"client_reference_id": "paged", "limit": 3,
                                                   "ending_before": created[50]})
    assert [s.id for s in before.data] == [created[53], created[52], created[51]]
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.checkout.sessions.list(params={"limit": 101})


def test_events_list_retrieve_and_filters(psp, sandbox, receiver):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    pay_session(sandbox.url, session.id)
    receiver.wait_for(lambda events: any(e["data"]["object"].get("id") == session.id for e in events))
    listed = psp.v1.events.list(params={"type": "checkout.session.completed"})
    assert_valid_response(listed, "GET /v1/events")
    assert listed.data[0].data.object.id == session.id
    for event in listed.data:
        assert_valid(event)
    several = psp.v1.events.list(params={"types": ["charge.succeeded", "payment_intent.succeeded"], "limit": 2})
    assert {e.type for e in several.data} == {"charge.succeeded", "payment_intent.succeeded"}
    event = psp.v1.events.retrieve(listed.data[0].id)
    assert_valid(event)
    assert event["request"]["idempotency_key"] is None, "caused by the buyer, not by an API request"


def test_webhook_endpoints_create_and_list(psp):
    endpoint = psp.v1.webhook_endpoints.create(params={
        "url": "http://127.0.0.1:9/hooks", "enabled_events": ["checkout.session.completed", "payout.paid"],
        "description": "test"})
    assert_valid(endpoint)
    assert endpoint.secret.startswith("whsec_")
    listed = psp.v1.webhook_endpoints.list()
    assert_valid_response(listed, "GET /v1/webhook_endpoints")
    found = next(e for e in listed.data if e.id == endpoint.id)
    assert "secret" not in found, "the secret is shown only at creation"
    with pytest.raises(stripe.InvalidRequestError):
        psp.v1.webhook_endpoints.create(params={"url": "not a url", "enabled_events": ["*"]})
