"""Fixtures for the PSP sandbox's tests: the real server as a subprocess, the official SDK as its
client, and a local webhook receiver. Nothing here touches the gateway or its databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tests.support.processes import Process
from tests.support.sandbox import WebhookReceiver, start_sandbox, stripe_client

WEBHOOK_SECRET = "whsec_sandbox_tests_0123456789abcdef"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    listening = WebhookReceiver()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, receiver) -> Iterator[Process]:
    """One sandbox per test module, wired to the module's receiver for every event."""
    process = start_sandbox(tmp_path_factory.mktemp("psp_sandbox"), webhook_url=receiver.url,
                            webhook_secret=WEBHOOK_SECRET)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def psp(sandbox) -> stripe.StripeClient:
    return stripe_client(sandbox.url)


@pytest.fixture
def fresh_sandbox(tmp_path) -> Iterator[Process]:
    """A sandbox of its own, for tests whose balances or settings must not be shared."""
    process = start_sandbox(tmp_path)
    yield process
    process.stop()
