"""Signing in and out, CSRF, rate limits, and who may see which page."""

import pytest

from config import load_config
from tests.support import factories
from tests.support.forms import csrf_token, login
from webapp import create_app
from webapp.extensions import db, limiter
from webapp.models import User


def test_merchant_signs_in_to_its_dashboard_and_out_again(client):
    merchant = factories.merchant(name="Acme Goods", email="owner@acme.example.com")
    factories.seller(merchant, name="Acme Ceramics")
    response = login(client, "Owner@Acme.example.com", factories.PASSWORD)
    assert response.status_code == 302 and response.location.endswith("/portal")
    page = client.get("/portal").get_data(as_text=True)
    assert "Acme Goods" in page and "Acme Ceramics" in page
    token = csrf_token(page)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/portal").status_code == 302  # back to the sign-in page


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    factories.merchant(email="owner@acme.example.com")
    wrong = login(client, "owner@acme.example.com", "not the password at all")
    unknown = login(client, "nobody@acme.example.com", "not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Email or password is incorrect." in response.get_data(as_text=True)


def test_malformed_login_form_shows_field_errors(client):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client):
    factories.merchant(email="owner@acme.example.com")
    response = client.post("/login", data={"email": "owner@acme.example.com", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert client.get("/portal").status_code == 302


def test_login_attempts_are_rate_limited(database_url, redis_url):
    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                     RATELIMIT_STORAGE_URI=redis_url, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    statuses = [client.post("/login", data={"email": "x@shop.example.com", "password": "wrong password!",
                                            "csrf_token": token}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert client.get("/login").status_code == 200  # only attempts count, not the page itself


def test_session_cookie_is_httponly_and_samesite_lax(client):
    factories.merchant(email="owner@acme.example.com")
    response = login(client, "owner@acme.example.com", factories.PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_after_login_only_local_next_urls_are_followed(client):
    factories.merchant(email="owner@acme.example.com")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example.com/", data={
        "email": "owner@acme.example.com", "password": factories.PASSWORD, "csrf_token": token})
    assert response.location.endswith("/portal")


def test_admin_sees_all_merchants(client):
    factories.admin()
    factories.merchant(name="First Shop")
    factories.merchant(name="Second Shop")
    response = login(client, "admin@platform.example.com", factories.PASSWORD)
    assert response.location.endswith("/admin/merchants")
    page = client.get("/admin/merchants").get_data(as_text=True)
    assert "First Shop" in page and "Second Shop" in page


def test_merchant_cannot_see_another_merchants_seller(client):
    mine = factories.merchant(email="me@shop.example.com")
    theirs = factories.merchant()
    their_seller = factories.seller(theirs)
    my_seller = factories.seller(mine, index=1)
    login(client, "me@shop.example.com", factories.PASSWORD)
    assert client.get(f"/portal/sellers/{my_seller.id}").status_code == 200
    assert client.get(f"/portal/sellers/{their_seller.id}").status_code == 404
    page = client.get("/portal/sellers").get_data(as_text=True)
    assert their_seller.id not in page


def test_merchant_user_cannot_open_admin_pages(client):
    factories.merchant(email="me@shop.example.com")
    login(client, "me@shop.example.com", factories.PASSWORD)
    assert client.get("/admin/merchants").status_code == 403


@pytest.mark.parametrize("path", ["/portal", "/portal/sellers", "/portal/api-keys", "/admin/merchants"])
def test_pages_need_a_signed_in_user(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location


def test_passwords_are_stored_as_argon2_hashes(app):
    factories.merchant(email="me@shop.example.com")
    user = db.session.query(User).filter_by(email="me@shop.example.com").one()
    assert user.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in user.password_hash
