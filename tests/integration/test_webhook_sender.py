"""The SSRF-safe sender against a real server: no redirect followed, answers read only up to the limit, host names
resolved and checked at send time, connection refused and timeouts recorded as outcomes."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Response

from tests.support.processes import free_port
from tests.support.webhook_receiver import Receiver, Server
from webapp.services import webhook_http

LIMITS = webhook_http.Limits(timeout=2, connect_timeout=1, response_bytes=64, allow_loopback=True, per_host=2)


@pytest.fixture
def receiver():
    found = Receiver()
    server = Server(found)
    yield found
    server.stop()


def test_a_redirect_is_an_answer_not_followed(receiver):
    receiver.answers["/moved"] = Response("", status=302, headers={"Location": f"{receiver.url}/elsewhere"})
    outcome = webhook_http.post(f"{receiver.url}/moved", b"{}", {}, LIMITS)
    assert outcome.status_code == 302 and not outcome.succeeded
    assert receiver.at("/elsewhere") == []


def test_only_the_first_bytes_of_an_answer_are_read(receiver):
    receiver.answers["/big"] = Response("x" * 5_000_000, status=200)
    outcome = webhook_http.post(f"{receiver.url}/big", b"{}", {}, LIMITS)
    assert outcome.succeeded and outcome.excerpt == "x" * 64
    assert webhook_http.post(f"{receiver.url}/after", b"{}", {}, LIMITS).succeeded  # the pool still works


def test_a_host_name_is_resolved_and_checked_at_send_time(receiver):
    port = receiver.url.rsplit(":", 1)[1]
    assert webhook_http.post(f"http://localhost:{port}/named", b"{}", {}, LIMITS).succeeded
    assert receiver.at("/named")[0].path == "/named"
    strict = webhook_http.Limits(**{**LIMITS.__dict__, "allow_loopback": False})
    refused = webhook_http.post(f"http://localhost:{port}/named", b"{}", {}, strict)
    assert refused.status_code is None and "loopback" in (refused.error or "")
    assert len(receiver.at("/named")) == 1
    unknown = webhook_http.post("http://no-such-host.invalid/", b"{}", {}, LIMITS)
    assert unknown.status_code is None and "cannot resolve" in (unknown.error or "")


def test_no_listener_and_a_slow_answer_are_failed_attempts(receiver):
    closed = webhook_http.post(f"http://127.0.0.1:{free_port()}/", b"{}", {}, LIMITS)
    assert closed.status_code is None and closed.error
    receiver.delay["/slow"] = 3
    slow = webhook_http.post(f"{receiver.url}/slow", b"{}", {}, LIMITS)
    assert slow.status_code is None and "timed out" in (slow.error or "").lower()
