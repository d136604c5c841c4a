"""The merchant portal: seller accounts and API keys."""

from sqlalchemy import select

from tests.support import factories
from tests.support.forms import csrf_token, login
from webapp.extensions import db
from webapp.models import ApiKey, SellerAccount
from webapp.services import api_keys


def _signed_in(client):
    merchant = factories.merchant(email="me@shop.example.com")
    login(client, "me@shop.example.com", factories.PASSWORD)
    return merchant


def test_api_key_is_shown_once_and_stored_only_as_a_digest(client):
    merchant = _signed_in(client)
    token = csrf_token(client.get("/portal/api-keys").get_data(as_text=True))
    created = client.post("/portal/api-keys", data={"name": "Storefront", "csrf_token": token})
    assert created.status_code == 302  # post/redirect/get: reloading cannot create a second key
    response = client.get("/portal/api-keys")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = page.split('data-testid="new-api-key-value">', 1)[1].split("<", 1)[0]
    assert secret.startswith("sk_test_")  # the PSP is the sandbox: test mode
    assert api_keys.authenticate(secret).merchant_id == merchant.id
    stored = db.session.scalar(select(ApiKey))
    assert secret not in (stored.key_hash, stored.prefix) and secret.startswith(stored.prefix)
    assert secret not in client.get("/portal/api-keys").get_data(as_text=True)


def test_revoked_key_no_longer_authenticates(client):
    merchant = _signed_in(client)
    secret = factories.api_key(merchant)
    record = api_keys.authenticate(secret)
    token = csrf_token(client.get("/portal/api-keys").get_data(as_text=True))
    response = client.post(f"/portal/api-keys/{record.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert api_keys.authenticate(secret) is None
    assert "revoked" in client.get("/portal/api-keys").get_data(as_text=True)


def test_cannot_revoke_another_merchants_key(client):
    _signed_in(client)
    other_secret = factories.api_key(factories.merchant())
    other = api_keys.authenticate(other_secret)
    token = csrf_token(client.get("/portal/api-keys").get_data(as_text=True))
    assert client.post(f"/portal/api-keys/{other.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert api_keys.authenticate(other_secret) is not None


def test_add_seller_account_with_valid_iban(client):
    merchant = _signed_in(client)
    token = csrf_token(client.get("/portal/sellers").get_data(as_text=True))
    response = client.post("/portal/sellers", data={
        "display_name": "Aurora Ceramics", "iban": "de89 3704 0044 0532 0130 00", "currency": "USD",
        "csrf_token": token})
    assert response.status_code == 302
    seller = db.session.scalar(select(SellerAccount).where(SellerAccount.merchant_id == merchant.id))
    assert seller.iban == "DE89370400440532013000" and seller.status == "active"


def test_bad_iban_shows_a_field_error_and_writes_nothing(client):
    _signed_in(client)
    token = csrf_token(client.get("/portal/sellers").get_data(as_text=True))
    response = client.post("/portal/sellers", data={
        "display_name": "Broken", "iban": "DE00 1234", "currency": "USD", "csrf_token": token})
    assert response.status_code == 400
    assert "Invalid IBAN" in response.get_data(as_text=True)
    assert db.session.scalar(select(SellerAccount)) is None


def test_seller_can_be_disabled_and_enabled(client):
    merchant = _signed_in(client)
    seller = factories.seller(merchant)
    token = csrf_token(client.get(f"/portal/sellers/{seller.id}").get_data(as_text=True))
    client.post(f"/portal/sellers/{seller.id}/status/disabled", data={"csrf_token": token})
    db.session.refresh(seller)
    assert seller.status == "disabled"
    client.post(f"/portal/sellers/{seller.id}/status/active", data={"csrf_token": token})
    db.session.refresh(seller)
    assert seller.status == "active"
