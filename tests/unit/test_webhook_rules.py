"""The webhook rules: which addresses may be called, which URLs may be saved, the retry schedule, event types."""

from __future__ import annotations

import ipaddress
import random
from datetime import timedelta
from itertools import pairwise

import pytest

from webapp.domain.errors import ValidationError
from webapp.domain.webhooks import (
    MAX_ATTEMPTS,
    AttemptOutcome,
    address_refusal,
    parse_events,
    parse_url,
    retry_delay,
    subscribed,
)


@pytest.mark.parametrize(("address", "loopback_allowed", "refused"), [
    ("93.184.215.14", False, None),
    ("2606:4700::6810:84e5", False, None),
    ("127.0.0.1", True, None),
    ("::1", True, None),
    ("127.0.0.1", False, "a loopback address"),
    ("::ffff:127.0.0.1", False, "a loopback address"),
    ("169.254.169.254", True, "a link-local or metadata address"),
    ("fe80::1", True, "a link-local or metadata address"),
    ("::ffff:169.254.169.254", True, "a link-local or metadata address"),
    ("10.1.2.3", True, "a private or reserved address"),
    ("172.16.0.1", True, "a private or reserved address"),
    ("192.168.1.1", True, "a private or reserved address"),
    ("fd00:ec2::254", True, "a private or reserved address"),
    ("100.64.0.1", True, "a private or reserved address"),
    ("0.0.0.0", True, "a private or reserved address"),
    ("224.0.0.1", True, "a private or reserved address"),
    ("::ffff:10.0.0.1", True, "a private or reserved address"),
])
def test_address_refusal(address, loopback_allowed, refused):
    assert address_refusal(ipaddress.ip_address(address), allow_loopback=loopback_allowed) == refused


def test_urls_are_checked_when_saved():
    assert parse_url(" https://hooks.example.com/in?x=1 ", require_https=True, allow_loopback=False) == \
        "https://hooks.example.com/in?x=1"
    assert parse_url("http://127.0.0.1:8000/", require_https=False, allow_loopback=True) == "http://127.0.0.1:8000/"
    for bad, https in [("http://hooks.example.com/", True), ("ftp://x.example.com/", False),
                       ("https://u:p@x.example.com/", False), ("https:///nohost", False), ("", False),
                       ("https://127.0.0.1/", False), ("https://[::1]/", False), ("https://169.254.169.254/", False),
                       ("https://x.example.com:0/", False), ("https://x.example.com:99999/", False),
                       ("https://x.example.com/a b", False), ("https://x.example.com/" + "a" * 2048, False)]:
        with pytest.raises(ValidationError) as refused:
            parse_url(bad, require_https=https, allow_loopback=False)
        assert refused.value.param == "url", bad


def test_the_retry_schedule_spans_about_three_days_and_scales():
    total = sum((retry_delay(n, jitter=random.Random(1)) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert timedelta(days=2.9) < total < timedelta(days=3.3)
    delays = [retry_delay(n, jitter=random.Random(n)) for n in range(1, MAX_ATTEMPTS)]
    assert all(later >= earlier * 0.9 for earlier, later in pairwise(delays))  # never shrinks
    assert retry_delay(MAX_ATTEMPTS) is None
    scaled = retry_delay(1, scale=0.001, jitter=random.Random(2))
    assert scaled is not None and timedelta(milliseconds=5) <= scaled <= timedelta(milliseconds=5.5)


def test_event_subscriptions():
    assert parse_events(["payout.paid", "payment.succeeded", "payout.paid"]) == ["payment.succeeded", "payout.paid"]
    assert parse_events(["payment.failed", "*"]) == ["*"]
    for bad in ([], "payment.succeeded", ["payment.teleported"], [1], None):
        with pytest.raises(ValidationError):
            parse_events(bad)
    assert subscribed(["*"], "refund.failed") and subscribed(["refund.failed"], "refund.failed")
    assert not subscribed(["refund.succeeded"], "refund.failed")


def test_only_a_2xx_answer_is_a_success():
    assert AttemptOutcome(204, 3).succeeded
    assert not AttemptOutcome(301, 3).succeeded  # redirects are not followed
    assert not AttemptOutcome(None, 3, error="timeout").succeeded
    assert not AttemptOutcome(500, 3).succeeded
