"""Team roles on the portal (owner, developer, viewer), API keys' test prefix and cheap "last used", and the
overview's figures."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.forms import csrf_token, login
from webapp.extensions import db
from webapp.models import ApiKey, User
from webapp.services import api_keys, team


def _page(client, path: str) -> str:
    db.session.rollback()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _add_member(client, email: str, role: str) -> str:
    token = csrf_token(_page(client, "/portal/settings"))
    response = client.post("/portal/settings/team", data={"csrf_token": token, "email": email, "role": role})
    assert response.status_code == 302, response.get_data(as_text=True)
    html = _page(client, "/portal/settings")
    return re.search(r'data-testid="new-member-password">([^<]+)<', html).group(1)


def test_owner_adds_members_and_each_role_can_do_only_its_part(client):
    merchant, sellers, _ = pay.merchant_with_sellers(1)
    owner = merchant.users[0]
    login(client, owner.email, factories.PASSWORD)
    viewer_password = _add_member(client, "viewer@shop.example.com", "viewer")
    developer_password = _add_member(client, "dev@shop.example.com", "developer")
    assert viewer_password not in _page(client, "/portal/settings")  # shown once
    roles = {u.email: team.role_of(u).value for u in team.members(merchant)}
    assert roles == {owner.email: "owner", "viewer@shop.example.com": "viewer", "dev@shop.example.com": "developer"}
    client.post("/logout", data={"csrf_token": csrf_token(_page(client, "/portal"))})

    login(client, "viewer@shop.example.com", viewer_password)
    keys_page = _page(client, "/portal/api-keys")
    assert "Create API key" not in keys_page and "Revoke" not in keys_page
    token = csrf_token(_page(client, "/portal/payout-settings"))
    for path, data in (("/portal/api-keys", {"name": "nope"}), ("/portal/settings/team",
                                                                 {"email": "x@shop.example.com", "role": "owner"}),
                       ("/portal/payout-settings", {"interval": "daily"}),
                       (f"/portal/sellers/{sellers[0].id}/status/disabled", {})):
        refused = client.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403, path
        assert "can look but not change" in refused.get_data(as_text=True)
    assert db.session.scalar(select(ApiKey.id).where(ApiKey.name == "nope")) is None
    client.post("/logout", data={"csrf_token": token})

    login(client, "dev@shop.example.com", developer_password)
    token = csrf_token(_page(client, "/portal/api-keys"))
    assert client.post("/portal/api-keys", data={"csrf_token": token, "name": "CI"}).status_code == 302
    assert client.post("/portal/settings/team", data={"csrf_token": token, "email": "y@shop.example.com",
                                                      "role": "owner"}).status_code == 403
    assert client.post(f"/portal/sellers/{sellers[0].id}/status/disabled",
                       data={"csrf_token": token}).status_code == 403


def test_owner_changes_roles_removes_members_and_the_team_keeps_an_owner(client):
    merchant = factories.merchant()
    owner = merchant.users[0]
    login(client, owner.email, factories.PASSWORD)
    _add_member(client, "second@shop.example.com", "developer")
    second = db.session.scalar(select(User).where(User.email == "second@shop.example.com"))
    token = csrf_token(_page(client, "/portal/settings"))
    demoted = client.post(f"/portal/settings/team/{owner.id}/role", data={"csrf_token": token,
                                                                          f"member-{owner.id}-role": "viewer"})
    assert demoted.status_code == 302
    assert "The team needs at least one owner" in _page(client, "/portal/settings")
    promoted = client.post(f"/portal/settings/team/{second.id}/role", data={"csrf_token": token,
                                                                            f"member-{second.id}-role": "owner"})
    assert promoted.status_code == 302
    db.session.rollback()
    assert team.role_of(db.session.get(User, second.id)).value == "owner"
    assert client.post(f"/portal/settings/team/{owner.id}/remove", data={"csrf_token": token}).status_code == 302
    assert "You cannot remove yourself" in _page(client, "/portal/settings")
    assert client.post(f"/portal/settings/team/{second.id}/remove", data={"csrf_token": token}).status_code == 302
    db.session.rollback()
    assert db.session.get(User, second.id) is None
    other = factories.merchant()
    # Another merchant's member is not found, exactly like a missing one.
    assert client.post(f"/portal/settings/team/{other.users[0].id}/remove",
                       data={"csrf_token": token}).status_code == 404
    assert client.post("/portal/settings/team/usr_nobody/remove", data={"csrf_token": token}).status_code == 404
    bad = client.post("/portal/settings/team", data={"csrf_token": token, "email": "not-an-email", "role": "owner"})
    assert bad.status_code == 400 and "Invalid email address" in bad.get_data(as_text=True)


def test_api_keys_are_test_keys_and_last_used_is_written_at_most_once_per_interval(client, app):
    merchant, _, key = pay.merchant_with_sellers(1)
    assert key.startswith("sk_test_")  # the PSP is the sandbox
    api = pay.Api(client, key)

    def call(with_api=api) -> None:
        response = with_api.get("/v1/payments")
        assert response.status_code == 200
        db.session.rollback()  # the request's transaction is over (here the test shares the app's session)
        response.close()  # as a WSGI server does after sending: "last used" is written then, off the request

    call()
    db.session.rollback()
    first = db.session.scalar(select(ApiKey.last_used_at))
    assert first is not None
    call()  # within the interval: no second write
    db.session.rollback()
    assert db.session.scalar(select(ApiKey.last_used_at)) == first
    app.config["API_KEY_LAST_USED_INTERVAL_SECONDS"] = 0
    db.session.execute(update(ApiKey).values(last_used_at=first.replace(year=first.year - 1)))
    db.session.commit()
    call()
    db.session.rollback()
    assert db.session.scalar(select(ApiKey.last_used_at)) > first.replace(year=first.year - 1)
    legacy = "gw_live_" + "x" * 43  # a key made before test/live prefixes keeps working
    db.session.add(ApiKey(merchant_id=merchant.id, name="old", prefix=legacy[:14], key_hash=api_keys.digest(legacy)))
    db.session.commit()
    call(pay.Api(client, legacy))


def test_overview_shows_volume_refunds_balances_and_charts(client, gateway_psp):
    merchant, sellers, key = pay.merchant_with_sellers(2)
    login(client, merchant.users[0].email, factories.PASSWORD)
    assert "No money in the sellers' wallets yet" in _page(client, "/portal")
    books.paid_checkout(client, pay.Api(client, key), sellers, gateway_psp.url)  # 3.15 + 2.00 USD
    html = _page(client, "/portal")
    figures = dict(re.findall(r'data-testid="(gross-volume|net-volume|payments-count|refunds)">([^<]+)<', html))
    # 3% + 0.30 per order: 0.39 and 0.36 USD of platform fees; no refunds yet.
    assert figures == {"gross-volume": "5.15 USD", "net-volume": "4.40 USD", "payments-count": "1",
                       "refunds": "0.00 USD"}
    assert html.count('src="data:image/svg+xml;base64,') == 2
    assert 'data-testid="balances"' in html and "4.40 USD" in html
