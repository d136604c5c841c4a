"""TOTP second factor: enrolment with a QR code, recovery codes shown once and usable once, the verify step at
sign-in, codes that cannot be replayed, the secret encrypted at rest, and admins required to enrol where
ADMIN_TWO_FACTOR_REQUIRED is on (production) but only offered it otherwise."""

from __future__ import annotations

import html
import re
import time

import pyotp
import pytest

from config import load_config
from tests.support import factories
from tests.support.browsers import browser
from tests.support.forms import csrf_token, login
from webapp import create_app
from webapp.extensions import db
from webapp.models import RecoveryCode, User
from webapp.services import crypto

OWNER = "owner@totp.example.com"
ADMIN = "admin@platform.example.com"


def _page(client, path: str, status: int = 200) -> str:
    db.session.rollback()
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.location)
    return html.unescape(response.get_data(as_text=True))


def _enrol(client) -> tuple[str, list[str]]:
    """Set up the second factor from the Security page, as a user with an authenticator app does."""
    page = _page(client, "/account/security/two-factor")
    assert "<svg" in page and 'data-testid="totp-qr"' in page  # the QR code, drawn by the server
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post("/account/security/two-factor", data={"csrf_token": csrf_token(page), "code": "000000"})
    assert wrong.status_code == 400 and "That code does not match" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    done = client.post("/account/security/two-factor", data={"csrf_token": csrf_token(page), "code": code})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def _password_step(client, email: str = OWNER):
    response = login(client, email, factories.PASSWORD)
    assert response.status_code == 302
    return response


def _verify(client, code: str):
    page = _page(client, "/login/verify")
    db.session.rollback()
    return client.post("/login/verify", data={"csrf_token": csrf_token(page), "code": code})


def _next_code(secret: str) -> str:
    """A code of the next time step (accepted: one step of clock drift), never the one used just before."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_merchant_enrols_then_signs_in_with_a_code(app):
    factories.merchant(email=OWNER)
    client = browser(app)
    _password_step(client)
    assert "off" in _page(client, "/account/security")
    secret, _ = _enrol(client)
    assert client.get("/portal").status_code == 200  # this browser stays signed in
    assert 'data-testid="two-factor-state">on' in _page(client, "/account/security")

    db.session.rollback()
    user = db.session.query(User).filter_by(email=OWNER).one()
    assert secret not in user.totp_secret_enc and crypto.decrypt(user.totp_secret_enc) == secret

    other = browser(app)
    response = _password_step(other)
    assert response.location.endswith("/login/verify")
    assert other.get("/portal").status_code == 302  # the password alone signs no one in
    assert _verify(other, "123456").status_code == 401
    signed_in = _verify(other, _next_code(secret))
    assert signed_in.status_code == 302 and signed_in.location.endswith("/portal")
    assert other.get("/portal").status_code == 200


def test_a_code_works_once(app):
    factories.merchant(email=OWNER)
    client = browser(app)
    _password_step(client)
    secret, _ = _enrol(client)
    code = _next_code(secret)
    first, second = browser(app), browser(app)
    _password_step(first)
    assert _verify(first, code).status_code == 302
    _password_step(second)
    assert _verify(second, code).status_code == 401  # replayed


def test_recovery_codes_work_once_each(app):
    factories.merchant(email=OWNER)
    client = browser(app)
    _password_step(client)
    _, codes = _enrol(client)
    db.session.rollback()
    stored = {rc.code_hash for rc in db.session.query(RecoveryCode)}
    assert len(stored) == 10 and not any(c.replace("-", "") in "".join(stored) for c in codes)

    first = browser(app)
    _password_step(first)
    assert _verify(first, codes[3].upper()).status_code == 302  # case and dashes do not matter
    assert "9 unused recovery codes left" in _page(first, "/account/security")
    again = browser(app)
    _password_step(again)
    assert _verify(again, codes[3]).status_code == 401


def test_too_many_wrong_codes_start_over(app):
    factories.merchant(email=OWNER)
    client = browser(app)
    _password_step(client)
    secret, _ = _enrol(client)
    other = browser(app)
    _password_step(other)
    for _ in range(4):
        assert _verify(other, "000000").status_code == 401
    last = _verify(other, "000000")
    assert last.status_code == 302 and last.location.endswith("/login")
    response = other.get("/login/verify")
    assert response.status_code == 302 and response.location.endswith("/login")
    _password_step(other)
    assert _verify(other, _next_code(secret)).status_code == 302


def test_turning_it_off_needs_the_password(app):
    factories.merchant(email=OWNER)
    client = browser(app)
    _password_step(client)
    _enrol(client)
    page = _page(client, "/account/security")
    refused = client.post("/account/security/two-factor/disable",
                          data={"csrf_token": csrf_token(page), "password": "not my password at all"})
    assert refused.status_code == 400 and "The password is not correct." in refused.get_data(as_text=True)
    done = client.post("/account/security/two-factor/disable",
                       data={"csrf_token": csrf_token(page), "password": factories.PASSWORD})
    assert done.status_code == 302
    db.session.rollback()
    assert db.session.query(RecoveryCode).count() == 0
    other = browser(app)
    assert _password_step(other).location.endswith("/portal")


def test_demo_admin_is_offered_two_factor_but_not_forced(app):
    factories.admin()
    client = browser(app)
    assert _password_step(client, ADMIN).location.endswith("/admin/merchants")
    page = _page(client, "/admin/merchants")
    assert 'data-testid="two-factor-offer"' in page and "/account/security/two-factor" in page
    _enrol(client)
    assert 'data-testid="two-factor-offer"' not in _page(client, "/admin/merchants")


@pytest.fixture
def production_like(app):
    """The same app with two-factor required for admins, as in production."""
    required = create_app(load_config("test"), **{name: app.config[name] for name in (
        "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RATELIMIT_STORAGE_URI")}, ADMIN_TWO_FACTOR_REQUIRED=True)
    yield required
    with required.app_context():
        db.engine.dispose()


def test_admin_must_enrol_where_required(app, production_like):
    factories.admin()
    factories.merchant(email=OWNER)
    admin = browser(production_like)
    _password_step(admin, ADMIN)
    for path in ("/admin/merchants", "/admin/ledger", "/"):
        response = admin.get(path)
        assert response.status_code == 302 and response.location.endswith("/account/security"), path
    assert "Set up two-factor sign-in to continue" in _page(admin, "/account/security")
    secret, _ = _enrol(admin)
    assert admin.get("/admin/merchants").status_code == 200
    page = _page(admin, "/account/security")
    assert "Admins must keep two-factor sign-in on." in page
    refused = admin.post("/account/security/two-factor/disable",
                         data={"csrf_token": csrf_token(page), "password": factories.PASSWORD})
    assert refused.status_code == 400

    merchant = browser(production_like)  # merchants may, but need not, enrol
    assert _password_step(merchant).location.endswith("/portal")
    assert merchant.get("/portal").status_code == 200

    again = browser(production_like)
    assert _password_step(again, ADMIN).location.endswith("/login/verify")
    assert _verify(again, _next_code(secret)).status_code == 302


def test_wrong_codes_are_limited_per_account_whatever_the_address(app):
    factories.merchant(email=OWNER)
    limited = create_app(load_config("test"), **{name: app.config[name] for name in (
        "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RATELIMIT_STORAGE_URI")}, TWO_FACTOR_RATE_LIMIT="3 per hour")
    client = browser(limited)
    _password_step(client)
    secret, _ = _enrol(client)
    for attempt in range(3):  # each from another address, each after the password again
        other = browser(limited)
        other.environ_base["REMOTE_ADDR"] = f"192.0.2.{10 + attempt}"
        _password_step(other)
        assert _verify(other, "000000").status_code == 401
    last = browser(limited)
    last.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    _password_step(last)
    assert _verify(last, _next_code(secret)).status_code == 429
    with limited.app_context():
        db.engine.dispose()
