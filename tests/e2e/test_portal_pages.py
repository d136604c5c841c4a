"""The merchant portal in Chromium: the overview's charts, payment search, a payment's page, team roles, and every
portal page at 390 px wide without sideways scrolling (with a screenshot of each)."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.test_ledger import sign_in
from tests.e2e.test_payin import expect_back_with, fill_card, start_checkout
from tests.support.system import System

NARROW = {"width": 390, "height": 844}


def _paid(page: Page, system: System, email: str, card: str = "4242 4242 4242 4242") -> None:
    start_checkout(page, system, email=email)
    fill_card(page, card)
    expect_back_with(page, "Paid")


def _fits(page: Page, path: str, shots: Path, name: str) -> None:
    page.goto(path)
    expect(page.get_by_role("main")).to_be_visible()
    page.wait_for_load_state("networkidle")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    assert width <= NARROW["width"], f"{path} is {width} px wide at 390 px (screenshot {name}-390.png)"


def test_overview_search_payment_page_and_every_page_at_390_px(browser, system: System, logs_dir: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    _paid(page, system, "ada@example.com")
    start_checkout(page, system, email="grace@example.com")  # declined first, then paid
    fill_card(page, "4000 0000 0000 0002")
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    fill_card(page, "5555 5555 5555 4444")
    expect_back_with(page, "Paid")

    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], system.demo["DEMO_MERCHANT_PASSWORD"])
    expect(page.get_by_test_id("payments-count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    for chart in ("volume-chart", "payments-chart"):  # drawn by pygal: real SVG images that the browser renders
        image = page.get_by_test_id(chart)
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert image.get_attribute("src").startswith("data:image/svg+xml;base64,")

    page.get_by_role("link", name="Payments", exact=True).click()
    page.get_by_label("Search").fill("GRACE@example.com")  # by email, any case: found by its keyed hash
    page.get_by_role("button", name="Search").click()
    rows = page.get_by_test_id("payment-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page.get_by_test_id("buyer")).to_contain_text("grace@example.com")
    attempts = page.get_by_test_id("attempt-table")
    expect(attempts).to_contain_text("Visa •••• 0002")
    expect(attempts).to_contain_text("Declined")
    expect(attempts).to_contain_text("Your card was declined.")
    expect(attempts).to_contain_text("Mastercard •••• 4444")
    expect(page.get_by_test_id("payment-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("timeline")).to_contain_text("Payment received")
    expect(page.get_by_role("main")).not_to_contain_text("EXECUTING")
    payment_path = page.url

    shots = logs_dir / "screens"
    shots.mkdir(exist_ok=True)
    page.set_viewport_size(NARROW)
    web = system.web_url
    pages = {"overview": "/portal", "payments": "/portal/payments", "payment": payment_path,
             "search": "/portal/payments?status=succeeded&amount_min=1", "wallets": "/portal/wallets",
             "payouts": "/portal/payouts", "sellers": "/portal/sellers", "api-keys": "/portal/api-keys",
             "settings": "/portal/settings", "payout-settings": "/portal/payout-settings"}
    page.goto(web + "/portal/sellers")
    pages["seller"] = page.get_by_role("main").get_by_role("link", name="Aurora Ceramics").first.get_attribute("href")
    for name, path in pages.items():
        _fits(page, path if path.startswith("http") else web + path, shots, name)
    context.close()


def test_team_member_with_viewer_role_reads_but_cannot_change(page: Page, system: System):
    sign_in(page, system, system.demo["DEMO_MERCHANT_EMAIL"], system.demo["DEMO_MERCHANT_PASSWORD"])
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Email", exact=True).fill("viewer@demo.example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Add member").click()
    password = page.get_by_test_id("new-member-password").inner_text()
    expect(page.get_by_test_id("member-viewer@demo.example.com")).to_contain_text("viewer@demo.example.com")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, system, "viewer@demo.example.com", password)
    page.get_by_role("link", name="API keys", exact=True).click()
    expect(page.get_by_role("button", name="Create API key")).to_have_count(0)
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(page.get_by_test_id("member-table")).to_contain_text("Viewer")
