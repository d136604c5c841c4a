"""Money in Chromium: a buyer pays two sellers in the demo shop, the merchant sees both wallets credited (pending),
the PSP releases the funds (available), the merchant refunds part of one order from the portal and sees the
wallet go down and the refund appear; the admin's ledger page and `flask ledger verify` report a clean ledger.

This test moves the sandbox's clock two days forward. On the session's shared system that would put every
later test's Checkout Session `expires_at` (computed from our clock, 1 hour ahead) in the sandbox's past, so it
runs on a system of its own (own database, sandbox, Redis database and processes).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from playwright.sync_api import Page, expect

from tests.conftest import create_postgres_database, drop_postgres_database
from tests.e2e.test_payin import fill_card, start_checkout
from tests.support.sandbox import advance_clock
from tests.support.system import System, start_system

# Demo cart: 1 x mug (24.00, Aurora Ceramics) and 1 x scarf (59.00, Nordic Knitwear). Platform fee 3% + 0.30:
# 24.00 → 1.02 (seller keeps 22.98), 59.00 → 2.07 (56.93). Refunding 10.00 of the mug takes back
# round_half_up(1.02 * 10/24) = 0.43 of the fee and 9.57 from Aurora's wallet: 22.98 → 13.41.


@pytest.fixture(scope="module")
def ledger_system(postgres_server, redis_url, tmp_path_factory, logs_dir) -> Iterator[System]:
    name, url = create_postgres_database(postgres_server)
    own_redis = re.sub(r"/\d+$", "/10", redis_url)  # its own queues: the shared system's workers stay out
    redis.Redis.from_url(own_redis).flushdb()
    running = start_system(tmp_path_factory.mktemp("ledger-instance"), url, own_redis, logs_dir / "ledger")
    yield running
    running.stop()
    drop_postgres_database(postgres_server, name)


def sign_in(page: Page, system: System, email: str, password: str) -> None:
    page.goto(f"{system.web_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def until(page: Page, check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Reload the page until `check()` holds: the workers apply webhooks in the background."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            shown = page.get_by_role("main").inner_text()
            raise AssertionError(f"timed out waiting for {what}; the page says:\n{shown}")
        time.sleep(0.5)
        page.reload()


def wallet_cell(page: Page, seller_id: str, side: str):
    return page.get_by_test_id(f"wallet-{seller_id}-USD").get_by_test_id(side)


def test_buyer_pays_two_sellers_merchant_sees_wallets_and_refunds_part_of_an_order(page: Page,
                                                                                  ledger_system: System):
    system = ledger_system
    aurora, nordic = system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
    start_checkout(page, system)
    fill_card(page, "4242 4242 4242 4242")
    expect(page.get_by_test_id("checkout-status")).to_have_text("Paid", timeout=20_000)

    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], system.demo["DEMO_MERCHANT_PASSWORD"])
    page.get_by_role("link", name="Wallets", exact=True).click()
    expect(page.get_by_role("heading", name="Wallets")).to_be_visible()
    expect(wallet_cell(page, aurora, "pending")).to_have_text("22.98 USD")
    expect(wallet_cell(page, nordic, "pending")).to_have_text("56.93 USD")
    expect(wallet_cell(page, aurora, "available")).to_have_text("0.00 USD")

    advance_clock(system.psp_url, 2 * 86_400 + 60)  # the PSP releases the funds: balance.available
    until(page, lambda: wallet_cell(page, aurora, "available").inner_text() == "22.98 USD", "funds available")
    expect(wallet_cell(page, nordic, "available")).to_have_text("56.93 USD")
    expect(wallet_cell(page, aurora, "pending")).to_have_text("0.00 USD")

    page.get_by_role("link", name="Payments", exact=True).click()
    page.get_by_test_id("payment-table").get_by_role("link").first.click()
    expect(page.get_by_test_id("attempt-table")).to_contain_text("Visa •••• 4242")
    expect(page.get_by_test_id("timeline")).to_contain_text("Payment received")
    expect(page.get_by_test_id("timeline")).to_contain_text("The sellers' money became available")
    expect(page.get_by_role("main")).not_to_contain_text("processing fee")  # the platform's own books
    mug = page.get_by_test_id("order-table").get_by_role("row").filter(has_text="Aurora Ceramics")
    expect(mug.get_by_role("textbox")).to_have_value("24.00")
    mug.get_by_role("textbox").fill("10.00")
    page.once("dialog", lambda dialog: dialog.accept())  # "Refund 10.00 USD of order …?"
    mug.get_by_role("button", name="Refund").click()
    expect(page.get_by_role("status")).to_contain_text("Refund of 10.00 USD requested")
    refunds = page.get_by_test_id("refund-table")
    expect(refunds).to_contain_text("10.00 USD")
    expect(refunds).to_contain_text("9.57 USD")  # from the seller
    until(page, lambda: "succeeded" in page.get_by_test_id("refund-table").inner_text().lower(), "the PSP's refund")
    expect(page.get_by_test_id("timeline")).to_contain_text("was paid back to the buyer")

    page.get_by_role("link", name="Wallets", exact=True).click()
    expect(wallet_cell(page, aurora, "available")).to_have_text("13.41 USD")
    expect(wallet_cell(page, nordic, "available")).to_have_text("56.93 USD")
    page.get_by_role("link", name="Aurora Ceramics").click()
    lines = page.get_by_test_id("ledger-lines")
    expect(lines.get_by_role("row").nth(1)).to_contain_text("-9.57 USD")  # newest first
    expect(lines).to_contain_text("+22.98 USD")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, system, system.demo["DEMO_ADMIN_EMAIL"], system.demo["DEMO_ADMIN_PASSWORD"])
    page.get_by_role("link", name="Ledger", exact=True).click()
    expect(page.get_by_test_id("ledger-state")).to_have_text("clean")
    expect(page.get_by_test_id("platform-balances-USD")).to_contain_text("Platform fee revenue")
    verified = system.flask("ledger", "verify")
    assert "Clean: every invariant holds." in verified.stdout, verified.stdout
