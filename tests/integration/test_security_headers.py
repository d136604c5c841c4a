"""Security headers on every response (flask-talisman): a Content-Security-Policy without inline script,
no framing, nosniff, a Referrer-Policy; HTTPS redirect and HSTS only where configured (production), so
development and tests keep working over plain http. (tests/e2e/test_csp.py checks in Chromium that the pages
raise no CSP violation.)"""

from __future__ import annotations

import pytest

from config import load_config
from tests.support import factories
from tests.support import payments as pay
from tests.support.forms import login
from webapp import create_app
from webapp.extensions import db


def _policy(response) -> dict[str, str]:
    directives = [part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d[0]}


@pytest.fixture
def paths(app, client) -> list[str]:
    _, sellers, key = pay.merchant_with_sellers()
    created = pay.Api(client, key).create(pay.body(sellers))
    assert created.status_code == 201
    return ["/login", f"/checkout/{created.get_json()['id']}", "/v1/payments", "/healthz", "/static/app.css",
            "/demo/shop", "/no/such/page"]


def test_every_response_carries_the_headers(app, client, paths):
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        policy = _policy(response)
        assert policy["script-src"] == "'self'" and "'unsafe-inline'" not in response.headers[
            "Content-Security-Policy"], path
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", path
        assert policy["connect-src"] == "'self'", path  # the checkout's polling and its WebSocket (same host)
        assert policy["form-action"] == f"'self' {app.config['PSP_CHECKOUT_ORIGIN']}", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        # The checkout page sets its own policy, and a header a view sets wins over the app-wide one.
        own = "no-referrer" if path.startswith("/checkout/") else "strict-origin-when-cross-origin"
        assert response.headers.get_all("Referrer-Policy") == [own], path
        assert "Strict-Transport-Security" not in response.headers, path  # not outside production


def test_headers_are_built_once_per_endpoint_and_follow_https(app):
    """The headers an endpoint gets are kept, per endpoint and per plain or secure request: the second request of
    a kind gets the same set, and HSTS appears only on the secure kind, as flask-talisman decides."""
    production = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                            REDIS_URL=app.config["REDIS_URL"], RATELIMIT_STORAGE_URI=app.config["REDIS_URL"],
                            ENV_NAME="production", TESTING=False, FORCE_HTTPS=False)
    client = production.test_client()
    security = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                "Strict-Transport-Security")
    for _ in range(2):
        plain = client.get("/healthz", base_url="http://gateway.example.com")
        secure = client.get("/healthz", base_url="https://gateway.example.com")
        proxied = client.get("/healthz", base_url="http://gateway.example.com", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in plain.headers
        for response in (secure, proxied):
            assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
            assert [response.headers.get_all(name) for name in security[:4]] == [
                plain.headers.get_all(name) for name in security[:4]]
        assert all(len(secure.headers.get_all(name)) == 1 for name in security)
    with production.app_context():
        db.engine.dispose()


def test_signed_in_pages_too_and_cookies_keep_their_settings(app, client):
    factories.merchant(email="owner@headers.example.com")
    response = login(client, "owner@headers.example.com", factories.PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http in tests
    page = client.get("/portal")
    assert page.status_code == 200 and page.headers["X-Frame-Options"] == "DENY"


def test_psp_checkout_origin_follows_the_psp(monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", "https://api.stripe.com")
    assert load_config("test").PSP_CHECKOUT_ORIGIN == "https://checkout.stripe.com"
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    assert load_config("test").PSP_CHECKOUT_ORIGIN == "http://127.0.0.1:12111"


def test_production_redirects_to_https_and_sends_hsts(app):
    production = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                            REDIS_URL=app.config["REDIS_URL"], RATELIMIT_STORAGE_URI=app.config["REDIS_URL"],
                            ENV_NAME="production", TESTING=False, FORCE_HTTPS=True)
    client = production.test_client()
    plain = client.get("/login", base_url="http://gateway.example.com")
    assert plain.status_code == 302 and plain.location.startswith("https://gateway.example.com/login")
    secure = client.get("/login", base_url="https://gateway.example.com")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    proxied = client.get("/login", base_url="http://gateway.example.com", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200  # TLS ended at a proxy
    with production.app_context():
        db.engine.dispose()


def test_a_live_server_of_its_own_is_allowed_and_announced(app, paths):
    """With LIVE_URL set (make run, or a live server on its own host) the checkout page opens its WebSocket there:
    the page names it and the policy allows exactly that origin besides this site."""
    split = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       REDIS_URL=app.config["REDIS_URL"], RATELIMIT_STORAGE_URI=app.config["REDIS_URL"],
                       LIVE_URL="wss://live.gateway.example.com")
    client = split.test_client()
    checkout = next(path for path in paths if path.startswith("/checkout/"))
    page = client.get(checkout)
    assert page.status_code == 200
    assert 'data-live-url="wss://live.gateway.example.com"' in page.get_data(as_text=True)
    assert _policy(page)["connect-src"] == "'self' wss://live.gateway.example.com"
    assert _policy(client.get("/login"))["connect-src"] == "'self' wss://live.gateway.example.com"
    assert 'data-live-url=""' in app.test_client().get(checkout).get_data(as_text=True)  # unset: this host
    with split.app_context():
        db.engine.dispose()
