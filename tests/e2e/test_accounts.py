"""A person signs in through Chromium against the real web server."""

import re

from playwright.sync_api import Page, expect

from tests.support.system import System


def sign_in(page: Page, system: System, email: str, password: str) -> None:
    page.goto(f"{system.web_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_signs_in_and_sees_merchants(page: Page, system: System):
    sign_in(page, system, system.demo["DEMO_ADMIN_EMAIL"], system.demo["DEMO_ADMIN_PASSWORD"])
    expect(page).to_have_url(re.compile(r"/admin/merchants$"))
    expect(page.get_by_role("heading", name="Merchants")).to_be_visible()
    expect(page.get_by_test_id("merchant-table")).to_contain_text("Demo Marketplace")


def test_merchant_sees_sellers_and_creates_an_api_key_shown_once(page: Page, system: System):
    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], system.demo["DEMO_MERCHANT_PASSWORD"])
    expect(page.get_by_test_id("merchant-name")).to_have_text("Demo Marketplace")
    expect(page.get_by_test_id("seller-table")).to_contain_text("Aurora Ceramics")
    expect(page.get_by_test_id("seller-table")).to_contain_text("Nordic Knitwear")
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_label("Key name").fill("Browser test key")
    page.get_by_role("button", name="Create API key").click()
    secret = page.get_by_test_id("new-api-key-value").inner_text()
    assert secret.startswith("sk_test_")  # the PSP is the sandbox: test mode
    expect(page.get_by_test_id("api-key-table")).to_contain_text("Browser test key")
    page.reload()
    expect(page.get_by_test_id("new-api-key")).to_have_count(0)
    assert secret not in page.content()


def test_wrong_password_shows_an_error(page: Page, system: System):
    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], "definitely-not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("Email or password is incorrect.")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_merchant_cannot_open_another_merchants_pages(page: Page, system: System):
    system.flask("merchants", "create", "--name", "Other Shop", "--email", "other@shop.example.com",
                 "--password", "another long password")
    system.flask("sellers", "add", "--merchant", "Other Shop", "--name", "Hidden Seller",
                 "--iban", "GB82WEST12345698765432")
    other_seller = system.flask("sellers", "add", "--merchant", "Other Shop", "--name", "Second Hidden",
                                "--iban", "FR1420041010050500013M02606").stdout.split()[2]
    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], system.demo["DEMO_MERCHANT_PASSWORD"])
    expect(page.get_by_test_id("merchant-name")).to_be_visible()
    response = page.goto(f"{system.web_url}/portal/sellers/{other_seller}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not Found")).to_be_visible()
    page.goto(f"{system.web_url}/portal/sellers")
    expect(page.get_by_test_id("seller-table")).not_to_contain_text("Hidden Seller")
