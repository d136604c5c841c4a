"""No input yields a 500: every route of the URL map (enumerated from the app, so a new route is covered without
touching this file), every method, as anonymous, as a merchant (API key and portal session) and as an admin,
sent NUL bytes in path, query, form and JSON, lone surrogates, over-deep JSON, overflowing integers and
full-width digits. Runs on PostgreSQL (which refuses NUL and out-of-range integers) and on SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from flask import g
from werkzeug.routing import AnyConverter, Rule

from tests.support import payments as pay
from tests.support.forms import csrf_token, login
from webapp.extensions import db
from webapp.services.demo import seed

HUGE = "9" * 30
QUERY_NAMES = ("limit", "page", "before", "after", "starting_after", "amount", "status", "date", "seller_account",
               "class", "next", "token", "session_id", "order", "canceled", "paying")
FORM_NAMES = ("amount", "name", "display_name", "email", "iban", "currency", "note", "target", "date", "reason",
              "monthly_anchor", "delay_days", "minimum_payout_amount", "interval", "payment_order_id", "password")


def _path_values(rule: Rule, known: dict[str, str], poison: str | None) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, converter in rule._converters.items():
        if type(converter).__name__ in ("IntegerConverter", "NumberConverter"):
            values[name] = int(HUGE)
        elif isinstance(converter, AnyConverter):  # one of a fixed set of words: nothing else reaches the view
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = poison if poison is not None else known.get(name, "x")
    return values


def _requests(rule: Rule, method: str, known: dict[str, str], token: str) -> list[tuple[str, dict]]:
    """(url, request kwargs) for every poisoned input this route and method can be sent."""
    adapter = _requests.adapter  # type: ignore[attr-defined]

    def build(poison: str | None, query: dict | None = None) -> str:
        path = adapter.build(rule.endpoint, _path_values(rule, known, poison), method=method, append_unknown=False)
        return f"{path}?{urlencode(query)}" if query else path

    found = [
        (build("a\x00b"), {}),
        (build(None, {name: HUGE for name in QUERY_NAMES}), {}),
        (build(None, {name: "\uff11\uff10" for name in QUERY_NAMES}), {}),  # full-width "10"
        (build(None, {name: "x\x00y" for name in QUERY_NAMES}), {}),
    ]
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        url = build(None)
        found += [
            (url, {"data": {**{name: "a\x00b" for name in FORM_NAMES}, "csrf_token": token}}),
            (url, {"data": {**{name: HUGE for name in FORM_NAMES}, "csrf_token": token}}),
            (url, {"data": '{"name": "a\\u0000b", "amount": "1.00"}', "content_type": "application/json"}),
            (url, {"data": '{"name": "\\ud800", "display_name": "\\udfff"}', "content_type": "application/json"}),
            (url, {"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}),
            (url, {"data": json.dumps(_nested(40)), "content_type": "application/json"}),
            (url, {"json": {"amount": HUGE, "limit": int(HUGE), "payment_order_id": {"id": 1}, "reason": []}}),
        ]
    return found


def _forget_request_globals() -> None:
    """The test's app context (and so `g`) is shared by every request: the signed-in user and the CSRF token
    must come from each client's own session, not from the previous request's."""
    for name in ("_login_user", "csrf_token"):
        g.pop(name, None)


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.fixture
def demo(app, gateway_server):
    """The demo data (merchant, sellers, API key, admin), so the demo shop is reachable too; its demo.env is
    removed afterwards, as the tables are."""
    env_path = Path(app.instance_path) / "demo.env"
    credentials = seed(env_path, gateway_server)
    yield credentials
    env_path.unlink(missing_ok=True)


def test_no_route_answers_500_to_any_poisoned_input(app, client, demo):
    created = pay.Api(client, demo.api_key).create(pay.body([SimpleNamespace(id=i) for i in demo.seller_ids]))
    assert created.status_code == 201, created.get_data(as_text=True)
    event = created.get_json()
    known = {"seller_id": demo.seller_ids[0], "payment_event_id": event["id"], "checkout_id": event["id"],
             "order_id": pay.event(event["id"]).orders[0].id,
             "status": "paused", "action": "resolve", "filename": "app.css"}

    def signed_in(email: str | None, password: str = "", form_page: str = "/login"):
        test_client = app.test_client()
        _forget_request_globals()
        if email:
            answer = login(test_client, email, password)
            assert answer.status_code == 302, answer.get_data(as_text=True)[-800:]
        return test_client, csrf_token(test_client.get(form_page).get_data(as_text=True))

    clients = {"anonymous": (*signed_in(None), {}),
               "merchant": (*signed_in(demo.merchant_email, demo.merchant_password, "/portal/api-keys"),
                            {"Authorization": f"Bearer {demo.api_key}"}),
               "admin": (*signed_in(demo.admin_email, demo.admin_password, "/admin/reconciliation"), {})}
    _requests.adapter = app.url_map.bind("localhost")  # type: ignore[attr-defined]
    failures, sent = [], 0
    rules = [rule for rule in app.url_map.iter_rules() if not getattr(rule, "websocket", False)]
    assert len(rules) > 40  # the whole map, not a hand-picked list
    for who, (test_client, token, headers) in clients.items():
        for rule in rules:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                for url, kwargs in _requests(rule, method, known, token):
                    db.session.rollback()  # never hold a (SQLite) transaction while the app works
                    _forget_request_globals()
                    response = test_client.open(url, method=method, headers=headers, **kwargs)
                    sent += 1
                    if response.status_code >= 500:
                        failures.append(f"{who} {method} {url} {str(kwargs)[:80]} -> {response.status_code}")
    assert sent > 1000
    assert not failures, "\n".join(failures[:50])
