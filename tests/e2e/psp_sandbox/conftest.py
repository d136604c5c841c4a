"""The sandbox for its browser tests, with a tiny shop that the payment page returns to.

Chromium itself (`browser`, `page`) comes from tests/e2e/conftest.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.processes import Process
from tests.support.sandbox import WebhookReceiver, start_sandbox

WEBHOOK_SECRET = "whsec_sandbox_e2e"


class _Shop(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<!doctype html><title>Shop</title><h1>Thank you</h1><p id=path>{self.path}</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def shop_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    listening = WebhookReceiver()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, receiver) -> Iterator[Process]:
    process = start_sandbox(tmp_path_factory.mktemp("psp_sandbox_e2e"), webhook_url=receiver.url,
                            webhook_secret=WEBHOOK_SECRET)
    yield process
    process.stop()
