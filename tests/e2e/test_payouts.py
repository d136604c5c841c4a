"""Pay-outs in Chromium: a buyer pays the demo's two sellers and a third seller the merchant adds in the portal with
a failing IBAN; the PSP releases the funds (sandbox clock); `flask payouts run` pays everyone due; the banks
answer (sandbox clock); the merchant sees two payouts `paid` with their itemized orders and the third `failed` in
plain words, replaces the IBAN in the portal, presses Pay out now, and that payout is paid too. The admin's
Payouts page then has no failed payout waiting.

Moves the sandbox clock, so it runs on a system of its own (see test_ledger.py)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from playwright.sync_api import Page, expect

from tests.conftest import create_postgres_database, drop_postgres_database
from tests.e2e.test_ledger import sign_in, until
from tests.e2e.test_payin import fill_card, start_checkout
from tests.support.payouts import GOOD_IBANS, NO_ACCOUNT_IBAN
from tests.support.sandbox import advance_clock
from tests.support.system import System, start_system

# Demo cart (test_ledger.py): Aurora keeps 22.98 of the 24.00 mug, Nordic 56.93 of the 59.00 scarf.
# The third seller's 40.00 order: platform fee 3% + 0.30 = 1.50, so it keeps 38.50.
PAID_OUT = {"Aurora Ceramics": "22.98 USD", "Nordic Knitwear": "56.93 USD", "Broken Bank Books": "38.50 USD"}
DAYS = 86_400


@pytest.fixture(scope="module")
def payout_system(postgres_server, redis_url, tmp_path_factory, logs_dir) -> Iterator[System]:
    name, url = create_postgres_database(postgres_server)
    own_redis = re.sub(r"/\d+$", "/11", redis_url)  # its own queues: the shared system's workers stay out
    redis.Redis.from_url(own_redis).flushdb()
    running = start_system(tmp_path_factory.mktemp("payout-instance"), url, own_redis, logs_dir / "payouts")
    yield running
    running.stop()
    drop_postgres_database(postgres_server, name)


def shot(page: Page, folder: Path, name: str) -> None:
    """Keep what the merchant saw (next to the system's logs), for people reviewing the pages."""
    page.screenshot(path=str(folder / f"screenshot-{name}.png"), full_page=True)


def add_seller(page: Page, shots: Path, name: str, iban: str) -> str:
    nav(page, "Seller accounts").click()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Add seller account"))
    shot(page, shots, "sellers")
    form.get_by_label("Display name").fill(name)
    form.get_by_label("Email").fill("books@broken-bank.example.com")
    form.get_by_label("IBAN").fill(iban)
    form.get_by_label("Payout schedule").select_option("daily")
    form.get_by_role("button", name="Add seller account").click()
    expect(page.get_by_role("status")).to_contain_text(f"Seller account “{name}” added")
    until(page, lambda: "active" in text(page.get_by_test_id("account-state")), "onboarded at the PSP")
    expect(page.get_by_test_id("bank-account")).to_contain_text("DE62 •••• 3001")
    return page.url.rsplit("/", 1)[1]


def buyer_pays(page: Page, system: System, seller_id: str) -> None:
    """The merchant's storefront creates a payment for the third seller; the buyer pays it in the browser."""
    checkout = "e2e-" + secrets.token_hex(4)
    created = requests.post(f"{system.web_url}/v1/payments", timeout=30,
                            headers={"Authorization": f"Bearer {system.demo['DEMO_API_KEY']}"},
                            json={"checkout_id": checkout, "buyer_info": {"email": "reader@example.com"},
                                  "payment_orders": [{"payment_order_id": f"{checkout}-book", "amount": "40.00",
                                                      "seller_account": seller_id, "currency": "USD"}]})
    assert created.status_code == 201, created.text
    page.goto(created.json()["checkout_url"])
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    fill_card(page, "4242 4242 4242 4242")
    expect(page.get_by_test_id("checkout-status")).to_have_text("Paid", timeout=20_000)


def nav(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def text(locator) -> str:
    """The element's text as written (inner_text would apply the badges' CSS capitalisation)."""
    return " ".join(locator.text_content().split())


def payout_row(page: Page, seller: str):
    return page.get_by_test_id("payout-table").get_by_role("row").filter(has_text=seller)


def all_submitted(page: Page, count: int) -> bool:
    """`count` payouts listed, each already at the PSP (its arrival date known)."""
    arrivals = page.get_by_test_id("arrival").all_inner_texts()
    return len(arrivals) == count and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", a.strip()) for a in arrivals)


def test_sellers_are_paid_with_itemized_statements_and_a_failed_iban_is_replaced(page: Page, payout_system: System,
                                                                                 logs_dir: Path):
    system, shots = payout_system, logs_dir / "payouts"
    start_checkout(page, system)
    fill_card(page, "4242 4242 4242 4242")
    expect(page.get_by_test_id("checkout-status")).to_have_text("Paid", timeout=20_000)
    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], system.demo["DEMO_MERCHANT_PASSWORD"])
    broken = add_seller(page, shots, "Broken Bank Books", NO_ACCOUNT_IBAN)
    buyer_pays(page, system, broken)

    advance_clock(system.psp_url, 2 * DAYS + 60)  # the PSP releases the funds
    page.goto(f"{system.web_url}/portal/sellers/{broken}")
    until(page, lambda: page.get_by_test_id("balance-USD-available").inner_text().startswith("38.50 USD"),
          "funds available")
    for seller_id in system.demo["DEMO_SELLER_ACCOUNTS"].split(","):
        page.goto(f"{system.web_url}/portal/sellers/{seller_id}")
        until(page, lambda: not page.get_by_test_id("balance-USD-available").inner_text().startswith("0.00"),
              "funds available")

    ran = system.flask("payouts", "run")  # what the daily cron does
    assert "3 payout(s) created" in ran.stdout, ran.stdout
    nav(page, "Payouts").click()
    until(page, lambda: all_submitted(page, 3), "payouts submitted to the PSP")
    advance_clock(system.psp_url, 3 * DAYS)  # the banks answer
    until(page, lambda: payout_row(page, "Nordic Knitwear").get_by_test_id("status").text_content().strip() == "paid"
          and payout_row(page, "Aurora Ceramics").get_by_test_id("status").text_content().strip() == "paid"
          and payout_row(page, "Broken Bank Books").get_by_test_id("status").text_content().strip() == "failed",
          "the banks' answers")
    shot(page, shots, "list")
    for seller, amount in PAID_OUT.items():
        expect(payout_row(page, seller)).to_contain_text(amount)

    payout_row(page, "Aurora Ceramics").get_by_role("link").first.click()
    statement = page.get_by_test_id("statement")
    expect(statement.get_by_role("row").filter(has_text="Payment order")).to_have_count(1)
    expect(statement).to_contain_text("22.98 USD")
    expect(page.get_by_test_id("statement-total")).to_have_text("22.98 USD")
    shot(page, shots, "statement")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("payout-pyt_")
    assert "payment_order" in Path(download.value.path()).read_text()

    nav(page, "Payouts").click()
    payout_row(page, "Broken Bank Books").get_by_role("link").first.click()
    expect(page.get_by_test_id("payout-failure")).to_contain_text("could not find an account with these details")
    shot(page, shots, "failed")
    page.get_by_role("link", name="Replace the bank account").click()
    expect(page.get_by_test_id("payouts-paused")).to_contain_text("The last payout was returned by the bank")
    page.get_by_label("New IBAN").fill(GOOD_IBANS[2])
    page.get_by_role("button", name="Replace bank account").click()
    expect(page.get_by_role("status")).to_contain_text("New bank account GB82 •••• 5432 saved")
    until(page, lambda: "active" in text(page.get_by_test_id("bank-account")), "new bank account registered")
    expect(page.get_by_test_id("payouts-active")).to_be_visible()
    shot(page, shots, "seller")

    page.get_by_role("button", name="Pay out now").click()
    expect(page.get_by_role("status")).to_contain_text("Payout of 38.50 USD to “Broken Bank Books” started")
    until(page, lambda: re.fullmatch(r"\d{4}-\d{2}-\d{2}", text(page.get_by_test_id("arrival"))) is not None,
          "payout submitted to the PSP")
    advance_clock(system.psp_url, 3 * DAYS)
    until(page, lambda: text(page.get_by_test_id("payout-status")) == "paid", "the new bank's answer")
    expect(page.get_by_test_id("statement-total")).to_have_text("38.50 USD")
    nav(page, "Payouts").click()
    page.get_by_role("link", name="Payout settings").click()
    page.get_by_label("Payout schedule").select_option("weekly")
    expect(page.get_by_label("Day of the week")).to_be_visible()  # the weekday only shows for weekly schedules
    expect(page.get_by_label("Day of the month")).to_be_hidden()
    shot(page, shots, "settings")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, system, system.demo["DEMO_ADMIN_EMAIL"], system.demo["DEMO_ADMIN_PASSWORD"])
    nav(page, "Payouts").click()
    expect(page.get_by_test_id("failed-payouts")).to_contain_text("No failed payouts are waiting")
    expect(page.get_by_test_id("payout-table").get_by_role("row").filter(has_text="Broken Bank Books")).to_have_count(2)
    shot(page, shots, "admin")
    verified = system.flask("ledger", "verify")
    assert "Clean: every invariant holds." in verified.stdout, verified.stdout
