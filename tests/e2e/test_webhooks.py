"""A merchant adds a webhook endpoint in Chromium and its server (a receiver in this test process, verifying with
the `standardwebhooks` library) hears about a change through the real RQ worker; the secret is shown once, the
delivery log shows the attempt, Resend sends the same webhook-id again, and rotation shows a new secret."""

from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import Page, expect

from tests.support.system import System
from tests.support.webhook_receiver import Receiver, Server


def wait_until(predicate, timeout: float, interval: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def sign_in(page: Page, system: System) -> None:
    page.goto(f"{system.web_url}/login")
    page.get_by_label("Email").fill(system.demo["DEMO_MERCHANT_EMAIL"])
    page.get_by_label("Password").fill(system.demo["DEMO_MERCHANT_PASSWORD"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("merchant-name")).to_be_visible()


def rename_seller(system: System, name: str) -> None:
    seller = system.demo["DEMO_SELLER_ACCOUNTS"].split(",")[0]
    answer = requests.post(f"{system.web_url}/v1/seller_accounts/{seller}", json={"display_name": name},
                           headers={"Authorization": f"Bearer {system.demo['DEMO_API_KEY']}"}, timeout=10)
    assert answer.status_code == 200, answer.text


def test_merchant_adds_an_endpoint_sees_deliveries_resends_and_rotates(page: Page, system: System):
    receiver = Receiver()
    server = Server(receiver)
    try:
        sign_in(page, system)
        page.get_by_role("link", name="Webhooks", exact=True).click()
        page.get_by_label("Endpoint URL").fill(f"{receiver.url}/hooks")
        page.get_by_label("seller_account.updated").check()
        page.get_by_role("button", name="Add endpoint").click()
        receiver.secret = page.get_by_test_id("webhook-secret-value").inner_text()
        assert receiver.secret.startswith("whsec_")
        expect(page.get_by_test_id("webhook-events")).to_have_text("seller_account.updated")
        page.reload()
        expect(page.get_by_test_id("webhook-secret")).to_have_count(0)
        assert receiver.secret not in page.content()

        rename_seller(system, "Aurora Ceramics Studio")
        got = wait_until(lambda: receiver.at("/hooks"), 60, 0.1, "the worker's delivery")
        assert got[0].verified and got[0].payload["type"] == "seller_account.updated"
        assert got[0].payload["data"]["object"]["display_name"] == "Aurora Ceramics Studio"

        log = page.get_by_test_id("webhook-log")

        def recorded() -> bool:  # the worker records the attempt just after the receiver has answered it
            page.reload()
            return log.get_by_test_id("last-status").count() > 0

        wait_until(recorded, 30, 0.5, "the delivery's attempt on the page")
        expect(log).to_contain_text("seller_account.updated")
        expect(log.get_by_test_id("last-status")).to_have_text("200")
        expect(log).to_contain_text(got[0].webhook_id)

        page.get_by_role("button", name="Resend").click()
        expect(page.locator(".flash-success")).to_contain_text("Delivery queued again")
        again = wait_until(lambda: receiver.at("/hooks")[1:], 60, 0.1, "the resent delivery")
        assert again[0].webhook_id == got[0].webhook_id and again[0].verified
        page.reload()
        expect(page.get_by_test_id("attempt-count")).to_have_text("2")

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Rotate secret").click()
        rotated = page.get_by_test_id("webhook-secret-value").inner_text()
        assert rotated.startswith("whsec_") and rotated != receiver.secret
        expect(page.get_by_test_id("webhook-overlap")).to_contain_text("signs too until")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        too_wide = page.evaluate("""[...document.querySelectorAll('main.page *')]
            .filter(e => e.closest('.table-scroll') === null || e.classList.contains('table-scroll'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className)""")
        assert too_wide == [], f"the endpoint page must not reach past 390 px: {too_wide}"
        expect(page).to_have_url(re.compile(r"/portal/webhooks/we_"))
    finally:
        server.stop()
