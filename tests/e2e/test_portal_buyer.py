"""The buyer's rough edges, each reproduced in Chromium: the shop's thanks page tells the truth, Back from the
return page does not offer the card form again, a revisited checkout does not claim to redirect, the pending
page repeats the bank transfer instructions, the paid page shows a reference and the card, and the PSP's page
shows the merchant's name."""

import re

import requests
from playwright.sync_api import Page, expect

from tests.e2e.test_payin import STATUS, expect_back_with, fill_card, start_checkout
from tests.support.system import System


def test_thanks_page_shows_the_real_status_of_the_order(page: Page, system: System):
    page.goto(f"{system.web_url}/demo/shop/thanks?order=made-up-order")
    expect(page.get_by_role("heading", name="Order not found")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("is paid")

    page.goto(f"{system.web_url}/demo/shop")
    page.get_by_label("Email").fill("unpaid@example.com")
    page.get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/checkout/pay_"))
    newest = requests.get(f"{system.web_url}/v1/payments?limit=1", timeout=10,
                          headers={"Authorization": f"Bearer {system.demo['DEMO_API_KEY']}"}).json()["data"][0]
    assert newest["status"] == "NOT_STARTED"
    page.goto(f"{system.web_url}/demo/shop/thanks?order={newest['checkout_id']}")  # the buyer edits the URL
    expect(page.get_by_role("heading", name="Payment not completed")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("is not paid yet")
    page.get_by_role("link", name="Continue to payment").click()
    expect(page.get_by_test_id(STATUS)).to_have_text("Ready to pay")


def test_paid_page_reference_and_card_and_back_button(page: Page, system: System):
    start_checkout(page, system)
    expect(page.locator(".merchant").first).to_have_text("Demo Marketplace")  # the merchant, not the platform
    psp_page = page.url
    fill_card(page, "4242 4242 4242 4242")
    expect_back_with(page, "Paid")
    expect(page.get_by_test_id("payment-reference")).to_have_text(re.compile(r"^pay_\w+$"))
    expect(page.get_by_test_id("paid-with")).to_have_text("Visa •••• 4242")

    page.go_back()  # Back from the return page: the PSP's page must say the payment is complete, not ask again
    expect(page).to_have_url(psp_page)
    expect(page.get_by_role("heading", name="This payment is complete")).to_be_visible()
    expect(page.get_by_label("Card number")).to_have_count(0)

    page.goto(psp_page)  # and directly, the same
    expect(page.get_by_role("heading", name="This payment is complete")).to_be_visible()
    page.get_by_test_id("return-link").click()
    expect(page.get_by_test_id(STATUS)).to_have_text("Paid")
    page.get_by_role("link", name="Return to Demo Marketplace", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")


def test_revisiting_the_checkout_after_pay_offers_to_continue(page: Page, system: System):
    checkout_url = start_checkout(page, system)
    page.goto(checkout_url)  # the buyer opens the checkout link again while the payment page is open
    expect(page.get_by_test_id(STATUS)).to_have_text("Payment page open")
    expect(page.get_by_role("main")).not_to_contain_text("Redirecting")
    page.wait_for_timeout(1500)  # the live connection must not turn it back into "Redirecting"
    expect(page.get_by_test_id(STATUS)).to_have_text("Payment page open")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(re.escape(system.psp_url) + r"/pay/cs_"))
    expect(page.get_by_label("Card number")).to_be_visible()


def test_bank_transfer_pending_page_repeats_the_instructions(page: Page, system: System):
    start_checkout(page, system)
    page.get_by_role("button", name="Pay by bank transfer").click()
    reference = page.locator(".bank-details dd").last.inner_text()
    page.get_by_role("link", name="Return to Demo Marketplace").click()
    expect_back_with(page, "Pending")
    instructions = page.get_by_test_id("transfer-instructions")
    expect(instructions).to_contain_text("DE89370400440532013000")
    expect(page.get_by_test_id("transfer-reference")).to_have_text(reference)
    expect(instructions).to_contain_text(re.compile(r"\d+\.\d\d USD"))
    page.get_by_role("link", name="Return to Demo Marketplace", exact=True).click()
    expect(page.get_by_role("heading", name="Waiting for your payment")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "pending")
