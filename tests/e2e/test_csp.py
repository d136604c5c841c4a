"""The Content-Security-Policy in Chromium: the sign-in, checkout, portal, admin and security pages load and
work (confirmations, the checkout's live status over its WebSocket, the QR code) without a single CSP
violation, and no other site can frame the sign-in or checkout page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_accounts import sign_in
from tests.e2e.test_payin import STATUS, expect_back_with, fill_card, start_checkout
from tests.support.system import System

# Reported by the page itself (securitypolicyviolation events), before any page script runs.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


class Watched:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        self.sockets: list[str] = []
        page.add_init_script(_RECORD_VIOLATIONS)
        page.on("console", lambda msg: self.console.append(msg.text) if "Content Security Policy" in msg.text
                else None)
        page.on("websocket", lambda ws: self.sockets.append(ws.url))

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        self.assert_clean(url)

    def assert_clean(self, where: str = "") -> None:
        reported = self.page.evaluate("window.__cspViolations || []")
        assert reported == [] and self.console == [], (where, reported, self.console)


@pytest.fixture
def watched(page: Page) -> Iterator[Watched]:
    yield Watched(page)


def test_portal_and_security_pages_have_no_violations(watched: Watched, system: System):
    page, web = watched.page, system.web_url
    watched.visit(f"{web}/login")
    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], system.demo["DEMO_MERCHANT_PASSWORD"])
    expect(page.get_by_test_id("merchant-name")).to_be_visible()
    for path in ("/portal", "/portal/payments", "/portal/wallets", "/portal/payouts", "/portal/sellers",
                 "/portal/payout-settings", "/portal/api-keys", "/account/security", "/account/security/two-factor"):
        watched.visit(web + path)
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()

    # A confirmation moved out of an inline onclick still asks, and "Cancel" still stops the form.
    watched.visit(f"{web}/portal/sellers")
    page.get_by_test_id("seller-table").get_by_role("link").first.click()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Disable", exact=True).click()
    expect(page.get_by_role("button", name="Disable", exact=True)).to_be_visible()
    assert asked and asked[0].startswith("Disable this seller account?")
    watched.assert_clean("seller page")


def test_admin_pages_have_no_violations(watched: Watched, system: System):
    page, web = watched.page, system.web_url
    sign_in(page, system, system.demo["DEMO_ADMIN_EMAIL"], system.demo["DEMO_ADMIN_PASSWORD"])
    expect(page.get_by_test_id("two-factor-offer")).to_be_visible()  # offered, not forced, in development
    for path in ("/admin/merchants", "/admin/ledger", "/admin/payouts", "/admin/reconciliation",
                 "/account/security"):
        watched.visit(web + path)
    page.goto(f"{web}/admin/merchants")
    page.get_by_test_id("merchant-table").get_by_role("link", name="Demo Marketplace").click()
    expect(page.get_by_test_id("user-row").first).to_be_visible()
    watched.assert_clean("merchant page")


def test_checkout_live_status_works_under_the_policy(watched: Watched, system: System):
    page = watched.page
    start_checkout(page, system)  # the WebSocket tells the page where to go
    live = re.escape(system.env["LIVE_URL"])  # the live server, a process of its own as in make run
    assert any(re.match(live + r"/ws/checkouts/pay_\w+\?token=", url) for url in watched.sockets), watched.sockets
    fill_card(page, "4242 4242 4242 4242")
    expect_back_with(page, "Paid")
    expect(page.get_by_test_id(STATUS)).to_have_text("Paid")
    watched.assert_clean("checkout")


def test_sign_in_and_checkout_cannot_be_framed(page: Page, system: System):
    page.goto(f"{system.web_url}/demo/shop")
    page.get_by_label("Email").fill("framed@example.com")
    page.get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/checkout/pay_"))
    checkout_url = page.url
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "frame-ancestors" in msg.text else None)
    # Another site (the sandbox's origin stands in for it) embeds both pages.
    page.goto(f"{system.psp_url}/_sandbox/health")
    page.set_content(f'<iframe id="a" src="{system.web_url}/login"></iframe>'
                     f'<iframe id="b" src="{checkout_url}"></iframe>')
    for _ in range(100):  # Chromium reports each refusal once the frame's response arrives
        if len(refused) >= 2:
            break
        page.wait_for_timeout(100)
    assert len(refused) == 2, refused
    assert len(page.frames) == 3
    for frame in page.frames[1:]:
        assert "Sign in" not in frame.content() and "Order summary" not in frame.content()
