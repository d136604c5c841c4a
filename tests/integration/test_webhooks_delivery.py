"""Delivering events to a merchant's real receiver (a server thread verifying with the `standardwebhooks` library):
signatures, retries after 500s with the same webhook-id, Resend, rotation overlap, SSRF refusal at delivery time,
disabling after sustained failure, and a blocked endpoint not holding up another. On PostgreSQL and SQLite."""

from __future__ import annotations

import threading
from collections import deque

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support import payments as pay
from tests.support.api_client import JsonApi
from tests.support.openapi import assert_response
from tests.support.sandbox import pay_session
from tests.support.webhook_receiver import Receiver, Server, wait_recorded
from webapp.dbtypes import utcnow
from webapp.domain.sellers import SellerChanges
from webapp.extensions import db
from webapp.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webapp.services import sellers, webhook_endpoints
from webapp.services.webhook_events import DELIVER_TOPIC

PATH = "/v1/webhook_endpoints"


@pytest.fixture
def receiver():
    found = Receiver()
    server = Server(found)
    yield found
    server.stop()


@pytest.fixture
def shop(client):
    merchant, seller_list, key = pay.merchant_with_sellers()
    return merchant, seller_list, JsonApi(client, key)


def endpoint(api: JsonApi, receiver: Receiver, path: str = "/hooks", events=("*",)) -> dict:
    created = api.post(PATH, {"url": receiver.url + path, "enabled_events": list(events)})
    assert created.status_code == 201, created.json
    receiver.secret = created.json["secret"]
    return created.json


def rename(merchant, seller, name: str) -> None:
    """A change a merchant's server hears about: `seller_account.updated`."""
    db.session.rollback()
    sellers.update(merchant, seller.id, SellerChanges(display_name=name))


def deliver_until(predicate, what: str, timeout: float = 30):
    def step():
        pay.drain(DELIVER_TOPIC)
        return predicate()

    return pay.wait_until(step, timeout, 0.02, what)


def attempts_of(endpoint_id: str) -> list[WebhookAttempt]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint_id)
                                   .order_by(WebhookAttempt.id)))


def test_a_paid_checkout_reaches_the_receiver_signed_with_the_api_object(shop, client, receiver, gateway_psp):
    _, seller_list, api = shop
    endpoint(api, receiver, events=["payment.succeeded"])
    checkout = pay.executing_checkout(client, api, seller_list)
    assert pay_session(gateway_psp.url, checkout.psp_session_id, card_number="4242424242424242")["status"] == \
        "succeeded"
    pay.settle(checkout.id, "SUCCESS")

    got = deliver_until(lambda: receiver.at("/hooks"), "the payment.succeeded webhook")
    wait_recorded()
    assert len(got) == 1 and got[0].verified, "the standardwebhooks library must accept our signature"
    event = got[0].payload
    assert event["type"] == "payment.succeeded" and event["id"] == got[0].webhook_id
    shown = api.get(f"/v1/payments/{checkout.checkout_id}").json
    assert event["data"]["object"] == shown, "the event carries the object as the API returns it"
    assert assert_response(api.get(f"/v1/events/{event['id']}"), "/v1/events/{id}") == event


def test_retries_after_500s_carry_the_same_webhook_id_and_are_logged(app, shop, receiver):
    merchant, seller_list, api = shop
    app.config["WEBHOOK_RETRY_SCALE"] = 0.0002  # 5 s → 1 ms, 5 min → 60 ms
    made = endpoint(api, receiver)
    receiver.script["/hooks"] = deque([500, 503])
    rename(merchant, seller_list[0], "Renamed seller")

    got = deliver_until(lambda: [r for r in receiver.at("/hooks") if r.payload] if len(receiver.at("/hooks")) >= 3
                        else None, "three attempts")
    wait_recorded()
    assert len(receiver.at("/hooks")) == 3
    assert {r.webhook_id for r in got} == {got[0].webhook_id} and all(r.verified for r in got)
    assert [a.status_code for a in attempts_of(made["id"])] == [500, 503, 200]
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == made["id"]))
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    log = assert_response(api.get(f"{PATH}/{made['id']}/deliveries"), PATH + "/{id}/deliveries")["data"]
    assert [a["status_code"] for a in log[0]["attempts"]] == [200, 503, 500]

    resent = api.post(f"/v1/webhook_deliveries/{delivery.id}/resend", {})
    assert resent.status_code == 200
    assert assert_response(resent, "/v1/webhook_deliveries/{id}/resend", "POST")["status"] == "pending"
    again = deliver_until(lambda: receiver.at("/hooks")[3:], "the resent delivery")
    assert again[0].webhook_id == got[0].webhook_id and again[0].verified  # a duplicate a receiver can drop
    wait_recorded()


def test_loopback_allowed_when_saved_is_refused_at_delivery_once_the_setting_is_off(app, shop, receiver):
    merchant, seller_list, api = shop
    made = endpoint(api, receiver)
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False  # the address is checked when delivering, not only when saved
    app.config["WEBHOOK_RETRY_SCALE"] = 0.0002
    rename(merchant, seller_list[0], "Refused seller")
    logged = deliver_until(lambda: attempts_of(made["id"]), "a refused attempt")
    assert logged[0].status_code is None and "loopback" in (logged[0].error or "")
    assert receiver.received == []
    refused = api.post(PATH, {"url": "http://169.254.169.254/latest/meta-data", "enabled_events": ["*"]})
    assert refused.status_code == 400 and refused.json["error"]["param"] == "url"


def test_sustained_failure_disables_the_endpoint(app, shop, receiver):
    merchant, seller_list, api = shop
    app.config["WEBHOOK_RETRY_SCALE"] = 0.000001  # about three days → a quarter of a second
    made = endpoint(api, receiver)
    receiver.script["/hooks"] = deque([500] * 20)
    rename(merchant, seller_list[0], "Failing seller")

    def disabled():
        db.session.rollback()
        return db.session.get(WebhookEndpoint, made["id"]).status == "disabled"

    deliver_until(disabled, "the endpoint to be disabled")
    assert len(attempts_of(made["id"])) == 10
    shown = api.get(f"{PATH}/{made['id']}").json
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "failing")


def test_rotation_signs_with_both_secrets_during_the_overlap(client, shop, receiver):
    merchant, seller_list, api = shop
    made = endpoint(api, receiver)
    db.session.rollback()
    rotated = webhook_endpoints.rotate(merchant.id, made["id"])
    old_secret, receiver.secret = receiver.secret, rotated.secret
    rename(merchant, seller_list[0], "Rotated seller")
    got = deliver_until(lambda: receiver.at("/hooks"), "a delivery after rotation")
    wait_recorded()
    assert got[0].verified and len(got[0].signature.split(" ")) == 2
    assert old_secret != rotated.secret
    assert Webhook(old_secret).verify(got[0].body, got[0].headers)["id"] == got[0].webhook_id  # receivers not
    # switched over yet still verify; once the overlap ends only the new secret signs
    db.session.rollback()
    found = db.session.get(WebhookEndpoint, made["id"])
    found.previous_secret_expires_at = utcnow()
    db.session.commit()
    rename(merchant, seller_list[0], "Rotated again")
    later = deliver_until(lambda: receiver.at("/hooks")[1:], "a delivery after the overlap")
    assert later[0].verified and len(later[0].signature.split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(later[0].body, later[0].headers)
    wait_recorded()


def test_a_blocked_endpoint_does_not_hold_up_another(app, shop, receiver):
    merchant, seller_list, api = shop
    app.config["WEBHOOK_ENDPOINT_CONCURRENCY"] = 2
    app.config["WEBHOOK_CONCURRENCY"] = 8
    endpoint(api, receiver, "/slow")
    endpoint(api, receiver, "/fast")
    gate = receiver.gates["/slow"] = threading.Event()
    for index in range(6):
        rename(merchant, seller_list[0], f"Seller v{index}")
    # The worker's job returns while requests to /slow hang: their outcomes are recorded whenever they come.
    deliver_until(lambda: len(receiver.at("/fast")) == 6, "every delivery to the fast endpoint")
    assert receiver.started.get("/slow", 0) == 2, "at most WEBHOOK_ENDPOINT_CONCURRENCY to one endpoint"
    assert receiver.at("/slow") == []
    gate.set()
    deliver_until(lambda: len(receiver.at("/slow")) == 6, "the slow endpoint's deliveries")
    wait_recorded()
