"""Sessions end on the server: a copied session cookie stops working after sign-out, a password change, or the
user being disabled by an admin; a session without requests for SESSION_IDLE_MINUTES ends by itself."""

from __future__ import annotations

import time

import pytest

from config import load_config
from tests.support import console, factories
from tests.support.browsers import browser
from tests.support.forms import csrf_token, login
from webapp import create_app
from webapp.auth.sessions import SEEN_KEY
from webapp.extensions import db
from webapp.models import User

OWNER = "owner@sessions.example.com"


def _signed_in(app, client, email: str = OWNER):
    response = login(client, email, factories.PASSWORD)
    assert response.status_code == 302 and "/login" not in response.location
    return client


def _copy(app, client):
    """Another browser holding a copy of this one's session cookie (what a thief would have)."""
    thief = browser(app)
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _signed_out(client, path: str = "/portal") -> bool:
    db.session.rollback()
    response = client.get(path)
    return response.status_code == 302 and "/login" in response.location


def _post(client, path: str, data: dict, page: str = "/account/security"):
    token = csrf_token(client.get(page).get_data(as_text=True))
    db.session.rollback()
    return client.post(path, data={**data, "csrf_token": token})


def test_copied_cookie_stops_working_after_sign_out(app):
    client = browser(app)
    factories.merchant(email=OWNER)
    _signed_in(app, client)
    thief = _copy(app, client)
    assert thief.get("/portal").status_code == 200  # a copy works while the session lives
    assert _post(client, "/logout", {}, page="/portal").status_code == 302
    assert _signed_out(thief)
    assert _signed_out(client)


def test_password_change_ends_other_sessions_and_keeps_this_one(app):
    client = browser(app)
    factories.merchant(email=OWNER)
    _signed_in(app, client)
    thief = _copy(app, client)
    new_password = "a whole new passphrase 42"
    response = _post(client, "/account/security/password", {
        "current_password": factories.PASSWORD, "new_password": new_password, "confirm_password": new_password})
    assert response.status_code == 302 and response.location.endswith("/account/security")
    assert _signed_out(thief)
    assert client.get("/portal").status_code == 200
    other = browser(app)
    assert login(other, OWNER, factories.PASSWORD).status_code == 401
    assert login(other, OWNER, new_password).status_code == 302


@pytest.mark.parametrize(("data", "message"), [
    ({"current_password": "not my password 123", "new_password": "n" * 20, "confirm_password": "n" * 20},
     "The current password is not correct."),
    ({"current_password": factories.PASSWORD, "new_password": "short", "confirm_password": "short"},
     "Password must be at least 12 characters."),
    ({"current_password": factories.PASSWORD, "new_password": "n" * 20, "confirm_password": "m" * 20},
     "The passwords differ."),
    ({"current_password": factories.PASSWORD, "new_password": factories.PASSWORD,
      "confirm_password": factories.PASSWORD}, "The new password must differ from the current one."),
])
def test_password_change_form_errors(app, data, message):
    client = browser(app)
    factories.merchant(email=OWNER)
    _signed_in(app, client)
    response = _post(client, "/account/security/password", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert login(browser(app), OWNER, factories.PASSWORD).status_code == 302  # unchanged


def test_admin_disables_a_user_whose_sessions_end_at_once(app):
    client = browser(app)
    merchant = factories.merchant(email=OWNER)
    factories.admin()
    user_id = db.session.query(User.id).filter_by(email=OWNER).scalar()
    _signed_in(app, client)
    thief = _copy(app, client)
    admin = _signed_in(app, browser(app), "admin@platform.example.com")
    page = admin.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert f"/admin/users/{user_id}/disable" in page
    response = admin.post(f"/admin/users/{user_id}/disable", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.location.endswith(f"/admin/merchants/{merchant.id}")
    assert _signed_out(client) and _signed_out(thief)
    refused = login(browser(app), OWNER, factories.PASSWORD)
    assert refused.status_code == 401 and "This account is disabled" in refused.get_data(as_text=True)

    page = admin.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert admin.post(f"/admin/users/{user_id}/enable", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert login(browser(app), OWNER, factories.PASSWORD).status_code == 302


def test_only_admins_disable_users_and_not_themselves(app):
    client = browser(app)
    factories.merchant(email=OWNER)
    admin_user = factories.admin()
    other_id = db.session.query(User.id).filter_by(email=OWNER).scalar()
    _signed_in(app, client)
    assert _post(client, f"/admin/users/{admin_user.id}/disable", {}, page="/portal").status_code == 403
    admin = _signed_in(app, browser(app), "admin@platform.example.com")
    response = _post(admin, f"/admin/users/{admin_user.id}/disable", {}, page="/admin/merchants")
    assert response.status_code == 302
    assert "You cannot disable your own account." in admin.get("/admin/merchants").get_data(as_text=True)
    assert _post(admin, "/admin/users/usr_missing/disable", {}, page="/admin/merchants").status_code == 404
    db.session.rollback()
    assert db.session.get(User, admin_user.id).disabled_at is None
    assert db.session.get(User, other_id).disabled_at is None


def test_idle_session_ends_on_the_server(app):
    client = browser(app)
    factories.merchant(email=OWNER)
    _signed_in(app, client)
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session[SEEN_KEY] = int(time.time()) - idle + 120  # active two minutes before the limit
    assert client.get("/portal").status_code == 200
    with client.session_transaction() as session:
        assert session[SEEN_KEY] >= int(time.time()) - 5  # the request counted as activity
        session[SEEN_KEY] = int(time.time()) - idle - 1
    assert _signed_out(client)
    page = client.get("/login").get_data(as_text=True)
    assert "You were signed out after a period without activity." in page


def test_idle_time_is_a_setting(app):
    factories.merchant(email=OWNER)
    short = create_app(load_config("test"), **{name: app.config[name] for name in (
        "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RATELIMIT_STORAGE_URI")}, SESSION_IDLE_MINUTES=1)
    client = _signed_in(short, browser(short))
    with client.session_transaction() as session:
        session[SEEN_KEY] = int(time.time()) - 50
    assert client.get("/portal").status_code == 200
    with client.session_transaction() as session:
        session[SEEN_KEY] = int(time.time()) - 61
    assert _signed_out(client)
    with short.app_context():
        db.engine.dispose()


def test_sign_in_steps_and_account_changes_are_audited(app):
    client = browser(app)
    merchant = factories.merchant(email=OWNER)
    factories.admin()
    assert login(browser(app), OWNER, "not the password").status_code == 401
    _signed_in(app, client)
    assert _post(client, "/account/security/password", {
        "current_password": factories.PASSWORD, "new_password": "a brand new passphrase 42",
        "confirm_password": "a brand new passphrase 42"}).status_code in (200, 302)
    assert _post(client, "/logout", {}, page="/portal").status_code == 302
    admin = _signed_in(app, browser(app), "admin@platform.example.com")
    user_id = db.session.query(User.id).filter_by(email=OWNER).scalar()
    page = admin.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert admin.post(f"/admin/users/{user_id}/disable", data={"csrf_token": csrf_token(page)}).status_code == 302
    db.session.rollback()
    rows = {(e.action, e.actor) for e in console.audits()}
    assert {("auth.sign_in_failed", OWNER), ("auth.sign_in", OWNER), ("auth.password_change", OWNER),
            ("auth.sign_out", OWNER), ("auth.sign_in", "admin@platform.example.com"),
            ("user.disable", "admin@platform.example.com")} <= rows
