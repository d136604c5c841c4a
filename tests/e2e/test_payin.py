"""A buyer in Chromium: demo shop → our checkout → the PSP's hosted page → back, with live status."""

import re

from playwright.sync_api import Page, expect

from tests.support.sandbox import advance_clock
from tests.support.system import System

STATUS = "checkout-status"


def start_checkout(page: Page, system: System, email: str = "buyer@example.com") -> str:
    """Buy from the demo shop and press Pay on our checkout page; returns our checkout page URL."""
    page.goto(f"{system.web_url}/demo/shop")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/checkout/pay_"))
    checkout_url = page.url
    expect(page.get_by_text("Aurora Ceramics")).to_be_visible()
    expect(page.get_by_text("Nordic Knitwear")).to_be_visible()
    expect(page.get_by_test_id(STATUS)).to_have_text("Ready to pay")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(re.escape(system.psp_url) + r"/pay/cs_"))  # sent on over the WebSocket
    return checkout_url


def fill_card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ada Buyer")
    page.get_by_role("button", name="Pay", exact=True).click()


def expect_back_with(page: Page, label: str) -> None:
    expect(page).to_have_url(re.compile(r"/checkout/pay_\w+/return\?session_id=cs_"))
    expect(page.get_by_test_id(STATUS)).to_have_text(label, timeout=20_000)


def test_pay_by_card(page: Page, system: System):
    start_checkout(page, system)
    fill_card(page, "4242 4242 4242 4242")
    expect_back_with(page, "Paid")
    page.get_by_role("link", name="Return to Demo Marketplace", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()


def test_declined_card_then_a_good_one(page: Page, system: System):
    start_checkout(page, system)
    fill_card(page, "4000 0000 0000 0002")
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    fill_card(page, "4242 4242 4242 4242")
    expect_back_with(page, "Paid")


def test_three_d_secure(page: Page, system: System):
    start_checkout(page, system)
    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name="Complete authentication").click()
    expect_back_with(page, "Paid")


def test_failed_three_d_secure_leaves_the_payment_payable(page: Page, system: System):
    start_checkout(page, system)
    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("alert")).to_contain_text("unable to authenticate")
    fill_card(page, "4242 4242 4242 4242")
    expect_back_with(page, "Paid")


def test_bank_transfer_turns_paid_on_the_open_page(page: Page, system: System):
    start_checkout(page, system)
    page.get_by_role("button", name="Pay by bank transfer").click()
    page.get_by_role("link", name=re.compile("Return to")).click()
    expect_back_with(page, "Pending")
    expect(page.get_by_text("being confirmed by your bank")).to_be_visible()
    advance_clock(system.psp_url, 2 * 86_400)  # the transfer arrives; nobody touches the page
    expect(page.get_by_test_id(STATUS)).to_have_text("Paid", timeout=20_000)


def test_cancel_on_the_psp_page_offers_try_again(page: Page, system: System):
    checkout_url = start_checkout(page, system)
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(re.escape(checkout_url.split("?")[0]) + r"\?canceled=1"))
    expect(page.get_by_test_id(STATUS)).to_have_text("Canceled")
    page.get_by_role("button", name="Try again").click()
    expect(page).to_have_url(re.compile(re.escape(system.psp_url) + r"/pay/cs_"))
    fill_card(page, "4242 4242 4242 4242")
    expect_back_with(page, "Paid")
