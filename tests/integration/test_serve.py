"""`make run`'s own layout: `flask serve` starts every Procfile process on the embedded default (SQLite, its own
Redis), the web server answers the API and the pages, and a buyer's live status comes over a WebSocket served by
the separate live server (LIVE_URL), not the web server: pressing Pay and paying at the PSP reach the socket."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
import requests
from websockets.sync.client import connect

from tests.conftest import start_redis
from tests.support.processes import ROOT, free_port, python, start, wait_http
from tests.support.soak import CSRF

TOKEN = re.compile(r'data-token="([^"]+)"')
LIVE_URL = re.compile(r'data-live-url="([^"]*)"')


@pytest.fixture
def served(tmp_path, logs_dir):
    redis_process, redis_url = start_redis(logs_dir, "serve-redis")
    web_port, live_port, psp_port = free_port(), free_port(), free_port()
    env = {**os.environ, "APP_ENV": "development", "INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}", "REDIS_URL": redis_url,
           "PORT": str(web_port), "LIVE_PORT": str(live_port), "STRIPE_API_BASE": f"http://127.0.0.1:{psp_port}",
           "LIVE_URL": "", "LOG_FORMAT": "json", "RELAY_INTERVAL_SECONDS": "1"}
    for command in (("db", "upgrade"), ("demo", "seed")):  # what `make run` does before it serves
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    process = start("flask-serve", python("-m", "flask", "--app", "wsgi", "serve"), logs_dir, env)
    try:
        wait_http(process, f"http://127.0.0.1:{web_port}/healthz", timeout=60)
        wait_http(process, f"http://127.0.0.1:{live_port}/healthz", timeout=60)
        wait_http(process, f"http://127.0.0.1:{psp_port}/_sandbox/health", timeout=60)
        demo = dict(line.split("=", 1) for line in (tmp_path / "instance" / "demo.env").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
        yield web_port, live_port, psp_port, demo
    finally:
        process.stop()
        redis_process.stop()


def test_make_run_serves_live_status_from_its_own_server(served):
    web_port, live_port, psp_port, demo = served
    web, http = f"http://127.0.0.1:{web_port}", requests.Session()
    seller = demo["DEMO_SELLER_ACCOUNTS"].split(",")[0]
    body = {"checkout_id": "serve-1", "buyer_info": {"email": "buyer@example.com"},
            "payment_orders": [{"payment_order_id": "serve-1-a", "seller_account": seller, "amount": "12.00",
                                "currency": "USD"}]}
    created = http.post(f"{web}/v1/payments", json=body, timeout=10,
                        headers={"Authorization": f"Bearer {demo['DEMO_API_KEY']}"})
    assert created.status_code == 201, created.text
    checkout = created.json()["id"]

    page = http.get(f"{web}/checkout/{checkout}", timeout=10)
    live_url = LIVE_URL.search(page.text).group(1)
    assert live_url == f"ws://127.0.0.1:{live_port}"  # not the web server's port
    assert live_url in page.headers["Content-Security-Policy"].split("connect-src", 1)[1].split(";", 1)[0]

    states: list[str] = []
    with connect(f"{live_url}/ws/checkouts/{checkout}?token={TOKEN.search(page.text).group(1)}",
                 open_timeout=30) as socket:
        states.append(json.loads(socket.recv(timeout=30))["state"])
        pressed = http.post(f"{web}/checkout/{checkout}/pay", data={"csrf_token": CSRF.search(page.text).group(1)},
                            allow_redirects=False, timeout=10)
        assert pressed.status_code in (302, 303), pressed.text
        session = _wait_for_psp_session(socket, states)
        paid = http.post(f"http://127.0.0.1:{psp_port}/_sandbox/checkout/sessions/{session}/pay", timeout=10,
                         json={"method": "card", "card_number": "4242424242424242"})
        assert paid.status_code == 200, paid.text
        deadline = time.monotonic() + 60
        while states[-1] != "paid" and time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=60))
            states.append(message.get("state", message.get("type")))
    assert states[0] == "ready" and states[-1] == "paid", states


def _wait_for_psp_session(socket, states: list[str]) -> str:
    """The live server says when the PSP's payment page is ready (state `redirect`, with its address)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        message = json.loads(socket.recv(timeout=60))
        states.append(message.get("state", message.get("type")))
        if message.get("state") == "redirect":
            return re.search(r"(cs_[A-Za-z0-9_]+)", message["redirect_url"]).group(1)
    raise AssertionError(f"no PSP page announced on the live socket: {states}")
