"""Signed webhook deliveries: signatures the SDK accepts, retries, resending, Connect routing."""

from __future__ import annotations

import json
import time

import requests
import stripe

from tests.integration.psp_sandbox.conftest import WEBHOOK_SECRET
from tests.support.sandbox import (
    WebhookReceiver,
    checkout_params,
    deliveries,
    pay_session,
    start_sandbox,
    stripe_client,
    wait_deliveries_idle,
)
from tests.support.stripe_schema import assert_valid


def test_every_delivery_verifies_with_the_sdk(psp, sandbox, receiver):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    pay_session(sandbox.url, session.id)
    receiver.wait_for(lambda events: any(e["type"] == "checkout.session.completed" for e in events))
    for headers, body in list(receiver.requests):
        event = stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], WEBHOOK_SECRET)
        assert_valid(event)
        assert headers["Content-Type"].startswith("application/json")
    completed = next(e for e in receiver.events() if e["type"] == "checkout.session.completed")
    assert completed["data"]["object"]["object"] == "checkout.session", "data.object is the full session"
    assert completed["data"]["object"]["payment_status"] == "paid"


def test_a_wrong_secret_fails_verification(psp, sandbox, receiver):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    pay_session(sandbox.url, session.id)
    receiver.wait_for(lambda events: len(events) > 0)
    headers, body = receiver.requests[-1]
    try:
        stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], "whsec_wrong")
    except stripe.SignatureVerificationError:
        return
    raise AssertionError("a wrong secret must not verify")


def test_retries_after_receiver_errors(tmp_path):
    receiver = WebhookReceiver(statuses=[500, 503])
    sandbox = start_sandbox(tmp_path, webhook_url=receiver.url, webhook_secret="whsec_retry")
    try:
        psp = stripe_client(sandbox.url)
        session = psp.v1.checkout.sessions.expire(psp.v1.checkout.sessions.create(params=checkout_params()).id)
        events = receiver.wait_for(lambda events: len(events) >= 3)
        assert [e["type"] for e in events] == ["checkout.session.expired"] * 3
        assert events[0]["data"]["object"]["id"] == session.id
        wait_deliveries_idle(sandbox.url)
        [delivery] = deliveries(sandbox.url, events[0]["id"])
        assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("succeeded", 3, 200)
        assert psp.v1.events.retrieve(events[0]["id"]).pending_webhooks == 0
    finally:
        sandbox.stop()
        receiver.close()


def test_unreachable_endpoint_gives_up_after_max_attempts(tmp_path):
    sandbox = start_sandbox(tmp_path, webhook_url="http://127.0.0.1:9/nothing", webhook_secret="whsec_gone",
                            extra_args=("--webhook-max-attempts", "2", "--webhook-retry-base", "0.05"))
    try:
        psp = stripe_client(sandbox.url)
        psp.v1.checkout.sessions.expire(psp.v1.checkout.sessions.create(params=checkout_params()).id)
        wait_deliveries_idle(sandbox.url)
        [delivery] = deliveries(sandbox.url)
        assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("failed", 2, None)
        assert "Connection" in delivery["last_error"]
        event = psp.v1.events.list().data[0]
        assert event.pending_webhooks == 1
        assert psp.v1.events.list(params={"delivery_success": False}).data[0].id == event.id
    finally:
        sandbox.stop()


def test_resend_from_the_api_and_the_dashboard(psp, sandbox, receiver):
    session = psp.v1.checkout.sessions.expire(psp.v1.checkout.sessions.create(params=checkout_params()).id)
    expired = lambda events: [e for e in events if e["data"]["object"].get("id") == session.id]  # noqa: E731
    events = receiver.wait_for(lambda events: len(expired(events)) == 1)
    event_id = expired(events)[0]["id"]
    assert requests.post(f"{sandbox.url}/_sandbox/events/{event_id}/resend", timeout=10).json()["deliveries"] == 1
    receiver.wait_for(lambda events: len(expired(events)) == 2)
    dashboard = requests.get(f"{sandbox.url}/_sandbox/", timeout=10)
    assert event_id in dashboard.text and "Resend" in dashboard.text
    clicked = requests.post(f"{sandbox.url}/_sandbox/dashboard/events/{event_id}/resend", timeout=10)
    assert clicked.status_code == 200 and clicked.url.endswith("/_sandbox/")
    receiver.wait_for(lambda events: len(expired(events)) == 3)
    assert len({e["id"] for e in expired(receiver.events())}) == 1, "a resend is the same event"


def test_endpoint_filters_event_types_and_connect(psp, sandbox):
    only_completed = WebhookReceiver()
    connect = WebhookReceiver()
    try:
        psp.v1.webhook_endpoints.create(params={"url": only_completed.url,
                                                "enabled_events": ["checkout.session.completed"]})
        psp.v1.webhook_endpoints.create(params={"url": connect.url, "enabled_events": ["*"], "connect": True})
        session = psp.v1.checkout.sessions.create(params=checkout_params())
        pay_session(sandbox.url, session.id)
        only_completed.wait_for(lambda events: len(events) == 1)
        wait_deliveries_idle(sandbox.url)
        assert [e["type"] for e in only_completed.events()] == ["checkout.session.completed"]
        assert connect.events() == [], "platform events do not go to Connect endpoints"
    finally:
        only_completed.close()
        connect.close()


def test_event_payload_is_the_raw_signed_body(psp, sandbox, receiver):
    session = psp.v1.checkout.sessions.create(params=checkout_params())
    pay_session(sandbox.url, session.id)
    receiver.wait_for(lambda events: any(e["data"]["object"].get("id") == session.id for e in events))
    headers, body = receiver.requests[-1]
    timestamp = dict(item.split("=", 1) for item in headers["Stripe-Signature"].split(","))["t"]
    assert abs(int(timestamp) - int(time.time())) < 60, "signatures use real wall time"
    assert json.loads(body)["object"] == "event"


def test_webhook_events_option_limits_and_later_widens_the_endpoints(tmp_path):
    wanted = "checkout.session.completed,charge.refunded"
    narrow = start_sandbox(tmp_path, webhook_url="http://127.0.0.1:9/hook", webhook_secret="whsec_events",
                           extra_args=("--webhook-events", wanted))
    db_path = narrow.extra["db_path"]
    try:
        endpoints = stripe_client(narrow.url).v1.webhook_endpoints.list().data
        assert [sorted(e.enabled_events) for e in endpoints] == [sorted(wanted.split(","))] * 2
    finally:
        narrow.stop()
    wide = start_sandbox(tmp_path, db_path=db_path, webhook_url="http://127.0.0.1:9/hook",
                         webhook_secret="whsec_events")
    try:
        endpoints = stripe_client(wide.url).v1.webhook_endpoints.list().data
        assert [e.enabled_events for e in endpoints] == [["*"], ["*"]], "restarting reconfigures, never duplicates"
    finally:
        wide.stop()
