"""The webhook endpoints and events API: shapes checked against openapi.json, Stripe-style errors, idempotency
keys, tenant isolation and pagination, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from tests.support import factories
from tests.support import payments as pay
from tests.support.api_client import JsonApi
from tests.support.openapi import assert_response
from webapp.domain.sellers import SellerChanges
from webapp.extensions import db
from webapp.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webapp.services import sellers

PATH = "/v1/webhook_endpoints"
ONE = "/v1/webhook_endpoints/{id}"
URL = "https://hooks.shop.example.com/payments"


@pytest.fixture
def shop(client):
    merchant, seller_list, key = pay.merchant_with_sellers()
    return merchant, seller_list, JsonApi(client, key)


def test_create_read_list_and_delete_match_the_openapi_document(shop):
    _, _, api = shop
    created = api.post(PATH, {"url": URL, "enabled_events": ["payment.succeeded", "refund.failed"],
                              "description": "Orders"})
    endpoint = assert_response(created, PATH, "POST")
    assert created.status_code == 201 and endpoint["id"].startswith("we_")
    assert endpoint["secret"].startswith("whsec_") and Webhook(endpoint["secret"]) is not None
    assert endpoint["enabled_events"] == ["payment.succeeded", "refund.failed"] and endpoint["status"] == "enabled"

    shown = assert_response(api.get(f"{PATH}/{endpoint['id']}"), ONE)
    assert "secret" not in shown, "the secret is shown once"
    assert shown == {k: v for k, v in endpoint.items() if k != "secret"}
    assert [e["id"] for e in assert_response(api.get(PATH), PATH)["data"]] == [endpoint["id"]]

    deleted = api.client.delete(f"{PATH}/{endpoint['id']}", headers=api.headers())
    assert assert_response(deleted, ONE, "DELETE") == {"id": endpoint["id"], "object": "webhook_endpoint",
                                                       "deleted": True}
    missing = api.get(f"{PATH}/{endpoint['id']}")
    assert assert_response(missing, ONE)["error"]["code"] == "resource_missing" and missing.status_code == 404


def test_an_idempotency_key_replays_the_creation_once(shop):
    _, _, api = shop
    body = {"url": URL, "enabled_events": ["*"]}
    first = api.post(PATH, body, idempotency_key="create-hook-1")
    again = api.post(PATH, body, idempotency_key="create-hook-1")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json
    other = api.post(PATH, {**body, "url": URL + "/other"}, idempotency_key="create-hook-1")
    assert assert_response(other, PATH, "POST")["error"]["type"] == "idempotency_error"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 1


@pytest.mark.parametrize(("body", "param"), [
    ({"enabled_events": ["*"]}, "url"),
    ({"url": "ftp://hooks.example.com/x", "enabled_events": ["*"]}, "url"),
    ({"url": "https://user:pw@hooks.example.com/", "enabled_events": ["*"]}, "url"),
    ({"url": "https://10.0.0.7/hooks", "enabled_events": ["*"]}, "url"),
    ({"url": "http://169.254.169.254/latest/meta-data/", "enabled_events": ["*"]}, "url"),
    ({"url": "https://[fd00:ec2::254]/", "enabled_events": ["*"]}, "url"),
    ({"url": URL}, "enabled_events"),
    ({"url": URL, "enabled_events": []}, "enabled_events"),
    ({"url": URL, "enabled_events": ["payment.teleported"]}, "enabled_events"),
    ({"url": URL, "enabled_events": "payment.succeeded"}, "enabled_events"),
    ({"url": URL, "enabled_events": ["*"], "colour": "blue"}, "colour"),
    ({"url": URL, "enabled_events": ["*"], "description": 7}, "description"),
])
def test_bad_requests_name_the_parameter_and_write_nothing(shop, body, param):
    _, _, api = shop
    refused = api.post(PATH, body)
    assert refused.status_code == 400, refused.json
    assert assert_response(refused, PATH, "POST")["error"]["param"] == param
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_https_is_required_when_the_setting_says_so(app, shop):
    _, _, api = shop
    app.config["WEBHOOK_REQUIRE_HTTPS"] = True
    refused = api.post(PATH, {"url": "http://hooks.shop.example.com/", "enabled_events": ["*"]})
    assert refused.status_code == 400 and "https://" in refused.json["error"]["message"]


def test_merchants_see_only_their_own_endpoints_and_events(client, shop):
    merchant, seller_list, api = shop
    mine = api.post(PATH, {"url": URL, "enabled_events": ["*"]}).json
    db.session.rollback()
    sellers.update(merchant, seller_list[0].id, SellerChanges(display_name="Renamed"))
    stranger = JsonApi(client, factories.api_key(factories.merchant()))
    event_id = api.get("/v1/events").json["data"][0]["id"]
    for path in (f"{PATH}/{mine['id']}", f"/v1/events/{event_id}", f"{PATH}/{mine['id']}/deliveries"):
        assert stranger.get(path).status_code == 404, path
    assert stranger.client.delete(f"{PATH}/{mine['id']}", headers=stranger.headers()).status_code == 404
    assert stranger.get(PATH).json["data"] == [] and stranger.get("/v1/events").json["data"] == []
    assert client.get(PATH).status_code == 401


def test_events_are_recorded_with_the_change_and_listed_newest_first(shop):
    merchant, seller_list, api = shop
    made = api.post(PATH, {"url": URL, "enabled_events": ["seller_account.updated"]}).json
    api.post(PATH, {"url": URL + "/payments-only", "enabled_events": ["payment.succeeded"]})
    for name in ("First name", "Second name", "Third name"):
        db.session.rollback()
        sellers.update(merchant, seller_list[0].id, SellerChanges(display_name=name))

    listed = assert_response(api.get("/v1/events?limit=2"), "/v1/events")
    assert listed["has_more"] is True and len(listed["data"]) == 2
    assert [e["data"]["object"]["display_name"] for e in listed["data"]] == ["Third name", "Second name"]
    rest = assert_response(api.get(f"/v1/events?limit=2&starting_after={listed['data'][1]['id']}"), "/v1/events")
    assert rest["has_more"] is False and [e["data"]["object"]["display_name"] for e in rest["data"]] == ["First name"]
    event = assert_response(api.get(f"/v1/events/{rest['data'][0]['id']}"), "/v1/events/{id}")
    assert event["type"] == "seller_account.updated" and event["data"]["object"]["id"] == seller_list[0].id
    assert api.get("/v1/events?type=payment.succeeded").json["data"] == []
    assert api.get("/v1/events?type=payment.teleported").status_code == 400
    assert api.get("/v1/events?starting_after=evt_nope").status_code == 400

    db.session.rollback()  # one delivery per event, to the subscribed endpoint only
    assert set(db.session.scalars(select(WebhookDelivery.endpoint_id))) == {made["id"]}
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 3
    log = assert_response(api.get(f"{PATH}/{made['id']}/deliveries"), "/v1/webhook_endpoints/{id}/deliveries")
    assert [d["status"] for d in log["data"]] == ["pending"] * 3


def test_a_change_that_rolls_back_takes_its_event_with_it(shop):
    merchant, seller_list, api = shop
    api.post(PATH, {"url": URL, "enabled_events": ["*"]})
    db.session.rollback()
    sellers.update(merchant, seller_list[0].id, SellerChanges(display_name="Never saved"), commit=False)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
