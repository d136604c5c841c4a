"""The console's merchants: created from a form, renamed, re-priced, disabled (its API keys and portal users stop
working, a session already open included) and enabled again; every change audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.support import console, factories
from tests.support import payments as pay
from tests.support.forms import login
from webapp.extensions import db
from webapp.models import Merchant, User


def _merchant(name: str) -> Merchant:
    db.session.rollback()
    found = db.session.scalar(select(Merchant).where(Merchant.name == name))
    assert found is not None
    return found


def test_create_merchant_from_the_console(app, client):
    console.admin_client(client)
    page = "/admin/merchants/new"
    short = console.post_form(client, page, page, {"name": "Acme", "email": "ceo@acme.example", "password": "short"})
    assert short.status_code == 400 and "between 12 and 200 characters" in short.get_data(as_text=True)
    assert db.session.scalar(select(Merchant)) is None
    created = console.post_form(client, page, page, {"name": "Acme", "email": "ceo@acme.example",
                                                     "password": factories.PASSWORD})
    assert created.status_code == 302
    merchant = _merchant("Acme")
    again = console.post_form(client, page, page, {"name": "acme", "email": "cfo@acme.example",
                                                   "password": factories.PASSWORD})
    assert again.status_code == 400 and "already exists" in again.get_data(as_text=True)
    [entry] = console.audits("merchant.create")
    assert (entry.actor, entry.target_id, entry.ip) == (console.ADMIN, merchant.id, "127.0.0.1")
    detail = client.get(f"/admin/merchants/{merchant.id}").get_data(as_text=True)
    assert "ceo@acme.example" in detail.split('data-testid="merchant-users"', 1)[1]
    assert "Acme" in client.get("/admin/merchants").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": ""})


def test_rename_and_fees_with_form_errors(app, client):
    merchant = factories.merchant(name="Old name")
    factories.merchant(name="Taken")
    console.admin_client(client)
    page = f"/admin/merchants/{merchant.id}"
    taken = console.post_form(client, page, f"{page}/name", {"name": "taken"})
    assert taken.status_code == 400 and "already exists" in taken.get_data(as_text=True)
    assert console.post_form(client, page, f"{page}/name", {"name": "New name"}).status_code == 302
    assert _merchant("New name").id == merchant.id

    too_much = console.post_form(client, page, f"{page}/fees", {"bps": "10001", "fixed_minor": "5"})
    assert too_much.status_code == 400 and "between 0 and 10000" in too_much.get_data(as_text=True)
    empty = console.post_form(client, page, f"{page}/fees", {"bps": "", "fixed_minor": ""})
    assert empty.status_code == 400 and "or use the platform default" in empty.get_data(as_text=True)
    words = console.post_form(client, page, f"{page}/fees", {"bps": "abc"})
    assert words.status_code == 400 and "Not a valid integer" in words.get_data(as_text=True)
    assert console.post_form(client, page, f"{page}/fees", {"bps": "250", "fixed_minor": "10"}).status_code == 302
    assert (_merchant("New name").fee_bps, _merchant("New name").fee_fixed_minor) == (250, 10)
    assert "2.5% + 10 minor units" in client.get(page).get_data(as_text=True)
    assert console.post_form(client, page, f"{page}/fees", {"use_default": "y"}).status_code == 302
    assert _merchant("New name").fee_bps is None
    edits = [(e.action, json.loads(e.detail)) for e in console.audits() if e.target_id == merchant.id]
    assert [a for a, _ in edits] == ["merchant.create", "merchant.edit", "merchant.fees", "merchant.fees"]
    assert edits[2][1] == {"before": {"fee_bps": None, "fee_fixed_minor": None},
                           "after": {"fee_bps": 250, "fee_fixed_minor": 10}}
    history = client.get(page).get_data(as_text=True).split('data-testid="merchant-history"', 1)[1]
    assert history.count("merchant.fees") == 2


def _status(app, request) -> int:
    """A request in an application context of its own, as in production: flask-login's user is not left over in `g`
    from the test's other requests."""
    db.session.rollback()  # the test's own session must not hold SQLite's lock meanwhile
    with app.app_context():
        return request().status_code


def test_disabled_merchant_keys_and_users_stop_working_until_enabled(app, client):
    merchant, sellers, key = pay.merchant_with_sellers(1)
    owner = db.session.scalar(select(User.email).where(User.merchant_id == merchant.id))
    api = pay.Api(app.test_client(), key)
    assert api.get("/v1/seller_accounts").status_code == 200  # the key is cached: disabling must drop it
    portal = app.test_client()
    assert _status(app, lambda: login(portal, owner, factories.PASSWORD)) == 302
    assert _status(app, lambda: portal.get("/portal")) == 200

    console.admin_client(client)
    page = f"/admin/merchants/{merchant.id}"
    no_reason = console.post_form(client, page, f"{page}/disable", {"reason": " "})
    assert no_reason.status_code == 400 and "Say why" in no_reason.get_data(as_text=True)
    assert console.post_form(client, page, f"{page}/disable", {"reason": "fraud review"}).status_code == 302
    assert 'data-testid="merchant-disabled"' in client.get(page).get_data(as_text=True)

    assert api.get("/v1/seller_accounts").status_code == 401
    assert api.create(pay.body(sellers)).status_code == 401
    assert _status(app, lambda: portal.get("/portal")) == 302  # the open session no longer works
    assert _status(app, lambda: login(app.test_client(), owner, factories.PASSWORD)) == 401
    assert console.post_form(client, page, f"{page}/disable", {"reason": "again"}).status_code == 302

    assert console.post_form(client, page, f"{page}/enable").status_code == 302
    assert api.get("/v1/seller_accounts").status_code == 200
    assert _status(app, lambda: login(app.test_client(), owner, factories.PASSWORD)) == 302
    actions = [(e.action, e.actor) for e in console.audits() if e.target_id == merchant.id]
    assert actions[-2:] == [("merchant.disable", console.ADMIN), ("merchant.enable", console.ADMIN)]
    assert json.loads(console.audits("merchant.disable")[0].detail) == {"reason": "fraud review"}
