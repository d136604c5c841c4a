"""The PSP's webhook route skips the hooks that serve browsers (webapp.machine_routes); every other route keeps
them, and the hooks every request needs still run on the webhook."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask

from tests.integration.conftest import WEBHOOK_SECRET
from tests.support import payments as pay
from webapp import machine_routes


def _signed_event(client, **headers):
    payload = json.dumps({"id": "evt_MachineRoutesTest0001", "object": "event", "type": "payment_intent.created",
                          "created": int(time.time()), "data": {"object": {"id": "pi_MachineRoutesTest01",
                                                                           "object": "payment_intent"}}})
    return client.post("/webhooks/psp", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": pay.sign(payload, WEBHOOK_SECRET), **headers})


@pytest.fixture
def browser_hook_calls(app, monkeypatch) -> list[str]:
    """The names of the browser hooks that ran (each wrapped hook's inner hook, spied on)."""
    calls: list[str] = []
    for hooks_by_blueprint, after in ((app.before_request_funcs, False), (app.after_request_funcs, True)):
        hooks = list(hooks_by_blueprint[None])
        for index, hook in enumerate(hooks):
            if hasattr(hook, "browser_hook"):
                def spy(*args, inner=hook.browser_hook):
                    calls.append(getattr(inner, "__name__", None) or inner.func.__name__)
                    return inner(*args)
                hooks[index] = machine_routes._for_browsers(spy, after=after)
        monkeypatch.setitem(hooks_by_blueprint, None, hooks)
    return calls


def test_a_webhook_runs_the_hooks_every_request_needs_and_none_for_browsers(app, client, browser_hook_calls):
    answer = _signed_event(client, **{"Request-Id": "req_machine_routes_test"})
    assert answer.status_code == 200 and answer.get_json() == {"duplicate": False, "received": True}
    assert answer.headers["Request-Id"] == "req_machine_routes_test"  # request id, log line, metrics
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")  # nothing read the session
    assert browser_hook_calls == []


def test_browser_routes_keep_them(app, client, browser_hook_calls):
    page = client.get("/login")
    assert page.status_code == 200 and "Cookie" in page.headers["Vary"]
    assert len(browser_hook_calls) == 3 and "csrf_protect" in browser_hook_calls
    refused = client.post("/login", data={"email": "someone@example.com", "password": "x" * 12})
    assert refused.status_code == 400  # no CSRF token: Flask-WTF's check still runs here
    assert _signed_event(client).status_code == 200  # while the webhook, which has none, is served


def test_wrapped_once_each(app):
    wrapped = [hook for hooks in (app.before_request_funcs[None], app.after_request_funcs[None])
               for hook in hooks if hasattr(hook, "browser_hook")]
    assert len(wrapped) == 3


def test_an_app_without_those_hooks_refuses_to_start():
    with pytest.raises(RuntimeError, match="CSRF"):
        machine_routes.skip_browser_hooks(Flask("bare"))
