"""The portal's webhooks pages through Flask's test client: form errors, the secret shown once, rotation, disable
and enable, delete, another merchant's endpoint is a 404."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.support import factories
from tests.support.forms import csrf_token, login
from webapp.extensions import db
from webapp.models import WebhookEndpoint
from webapp.services import webhook_endpoints
from webapp.services.webhook_endpoints import NewEndpoint


def _signed_in(client):
    merchant = factories.merchant(email="hooks@shop.example.com")
    login(client, "hooks@shop.example.com", factories.PASSWORD)
    return merchant


def _token(client, path: str = "/portal/webhooks") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def test_adding_an_endpoint_shows_its_secret_once(client):
    _signed_in(client)
    token = _token(client)
    bad = client.post("/portal/webhooks", data={"csrf_token": token, "url": "http://169.254.169.254/",
                                                "enabled_events": ["payment.succeeded"]})
    assert bad.status_code == 400 and "link-local" in bad.get_data(as_text=True)
    none_chosen = client.post("/portal/webhooks", data={"csrf_token": token, "url": "https://hooks.example.com/"})
    assert none_chosen.status_code == 400 and "Choose at least one event type." in none_chosen.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    added = client.post("/portal/webhooks", data={"csrf_token": token, "url": "https://hooks.example.com/in",
                                                  "enabled_events": ["payment.succeeded", "payout.paid"]})
    assert added.status_code == 302
    page = client.get(added.location)
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    secret = html.split('data-testid="webhook-secret-value">', 1)[1].split("<", 1)[0]
    db.session.rollback()
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert webhook_endpoints.signing_secrets(endpoint) == [secret] and secret not in endpoint.secret_enc
    assert "payment.succeeded, payout.paid" in html
    assert secret not in client.get(added.location).get_data(as_text=True)


def test_rotate_disable_enable_and_delete(client):
    merchant = _signed_in(client)
    made = webhook_endpoints.create(merchant.id, NewEndpoint("https://hooks.example.com/", ["*"]))
    path = f"/portal/webhooks/{made.endpoint.id}"
    token = _token(client, path)
    assert client.post(f"{path}/rotate", data={"csrf_token": token}).status_code == 302
    html = client.get(path).get_data(as_text=True)
    new_secret = html.split('data-testid="webhook-secret-value">', 1)[1].split("<", 1)[0]
    assert new_secret != made.secret and 'data-testid="webhook-overlap"' in html
    db.session.rollback()
    assert webhook_endpoints.signing_secrets(db.session.get(WebhookEndpoint, made.endpoint.id)) == [new_secret,
                                                                                                    made.secret]
    assert client.post(f"{path}/enabled", data={"csrf_token": token, "enabled": "0"}).status_code == 302
    db.session.rollback()
    found = db.session.get(WebhookEndpoint, made.endpoint.id)
    assert (found.status, found.disabled_reason) == ("disabled", "merchant")
    client.post(f"{path}/enabled", data={"csrf_token": token, "enabled": "1"})
    db.session.rollback()
    assert db.session.get(WebhookEndpoint, made.endpoint.id).status == "enabled"
    assert client.post(f"{path}/rotate").status_code == 400  # no CSRF token
    assert client.post(f"{path}/delete", data={"csrf_token": token}).status_code == 302
    db.session.rollback()
    assert db.session.get(WebhookEndpoint, made.endpoint.id) is None


def test_another_merchants_endpoint_is_not_found(client):
    other = factories.merchant()
    theirs = webhook_endpoints.create(other.id, NewEndpoint("https://hooks.example.com/", ["*"]))
    _signed_in(client)
    path = f"/portal/webhooks/{theirs.endpoint.id}"
    token = _token(client)
    assert client.get(path).status_code == 404
    for action in ("rotate", "delete"):
        assert client.post(f"{path}/{action}", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{path}/enabled", data={"csrf_token": token, "enabled": "0"}).status_code == 404
    db.session.rollback()
    assert db.session.get(WebhookEndpoint, theirs.endpoint.id).status == "enabled"
