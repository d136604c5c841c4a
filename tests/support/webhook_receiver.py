"""A merchant's webhook receiver for tests: a real HTTP server on a thread that verifies every request with the
`standardwebhooks` library (as a merchant would) and records what it got. It can be told to answer with a series
of status codes (500s before a 200) or to be slow, per path."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support.processes import free_port


@dataclass
class Received:
    path: str
    webhook_id: str
    verified: bool
    payload: dict | None
    signature: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Verifies with `secret` (set it once the endpoint is created); answers from `script[path]` (default 200)."""

    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    script: dict[str, deque[int]] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    gates: dict[str, threading.Event] = field(default_factory=dict)  # requests to a gated path wait until it is set
    started: dict[str, int] = field(default_factory=dict)
    answers: dict[str, Response] = field(default_factory=dict)  # a fixed answer for a path (a redirect, a big body)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        headers = {k: v for k, v in request.headers.items()}
        try:
            payload = Webhook(self.secret or "whsec_").verify(body, headers) if self.secret else None
            verified = payload is not None
        except WebhookVerificationError:
            payload, verified = None, False
        if payload is None:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        with self.lock:
            self.started[request.path] = self.started.get(request.path, 0) + 1
        gate = self.gates.get(request.path)
        if gate is not None:
            gate.wait(30)
        pause = self.delay.get(request.path, 0)
        if pause:
            time.sleep(pause)
        with self.lock:
            self.received.append(Received(request.path, headers.get("Webhook-Id", ""), verified, payload,
                                          headers.get("Webhook-Signature", ""), body, headers))
            queued = self.script.get(request.path)
            status = queued.popleft() if queued else 200
        if request.path in self.answers:
            return self.answers[request.path](environ, start_response)
        return Response(json.dumps({"ok": status < 300}), status=status, mimetype="application/json")(
            environ, start_response)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


class Server:
    def __init__(self, receiver: Receiver, host: str = "127.0.0.1") -> None:
        self.server = make_server(host, free_port(), receiver, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        receiver.url = f"http://{host}:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()


def wait_recorded(timeout: float = 30) -> None:
    """Until every attempt sent has been recorded (outcomes are written by the worker's recorder thread)."""
    from sqlalchemy import func, select

    from tests.support.payments import wait_until
    from webapp.extensions import db
    from webapp.models import WebhookDelivery

    wait_until(lambda: not db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.claimed_until.is_not(None))), timeout, 0.02, "webhook attempts to be recorded")
