"""The ten-line Flask receiver in docs/webhooks.md, run as written (with the endpoint's secret filled in) on a real
server: it accepts our deliveries and refuses a forged one."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import requests
from werkzeug.serving import make_server

from tests.support import payments as pay
from tests.support.api_client import JsonApi
from tests.support.processes import free_port
from tests.support.webhook_receiver import wait_recorded
from webapp.domain.sellers import SellerChanges
from webapp.extensions import db
from webapp.services import sellers
from webapp.services.webhook_events import DELIVER_TOPIC

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_receiver(secret: str, handled: list) -> object:
    code = re.search(r"```python\n(from flask import Flask, request\n.*?)```", DOC.read_text(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 13
    scope: dict = {"handle": handled.append, "__name__": "__main__"}
    exec(code.replace("whsec_…your endpoint's secret…", secret), scope)  # our own documentation
    return scope["app"]


def test_the_documented_flask_receiver_accepts_our_deliveries(client):
    merchant, seller_list, key = pay.merchant_with_sellers()
    api = JsonApi(client, key)
    port = free_port()
    made = api.post("/v1/webhook_endpoints", {"url": f"http://127.0.0.1:{port}/hooks/gateway",
                                              "enabled_events": ["seller_account.updated"]}).json
    handled: list = []
    server = make_server("127.0.0.1", port, documented_receiver(made["secret"], handled), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        db.session.rollback()
        sellers.update(merchant, seller_list[0].id, SellerChanges(display_name="Documented"))

        def received():
            pay.drain(DELIVER_TOPIC)
            return handled

        got = pay.wait_until(received, 30, 0.05, "the documented receiver to handle the event")
        assert got[0]["type"] == "seller_account.updated"
        assert got[0]["data"]["object"]["display_name"] == "Documented"
        forged = requests.post(f"http://127.0.0.1:{port}/hooks/gateway", data=b'{"id": "evt_forged"}', timeout=5,
                               headers={"webhook-id": "evt_forged", "webhook-timestamp": "1",
                                        "webhook-signature": "v1,AAAA"})
        assert forged.status_code == 400 and len(handled) == 1
        wait_recorded()
    finally:
        server.shutdown()
