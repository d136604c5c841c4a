"""The admin console in Chromium: a buyer pays, then an admin finds the payment by the buyer's email, follows its
timeline to the PSP event that paid it and re-applies it, looks at background work and health, creates a merchant,
gives it its own fee, disables it, and finds all of it in the audit log."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from tests.e2e.test_ledger import sign_in
from tests.e2e.test_payin import expect_back_with, fill_card, start_checkout
from tests.support.system import System


def test_admin_walks_the_console(page: Page, system: System):
    email = f"console-{secrets.token_hex(4)}@example.com"
    start_checkout(page, system, email=email)
    fill_card(page, "4242 4242 4242 4242")
    expect_back_with(page, "Paid")

    sign_in(page, system, system.demo["DEMO_ADMIN_EMAIL"], system.demo["DEMO_ADMIN_PASSWORD"])
    page.get_by_role("link", name="Payments", exact=True).click()
    page.get_by_label("Id or buyer email").fill(email.upper())
    page.get_by_role("button", name="Search").click()
    results = page.get_by_test_id("payment-table")
    expect(results.locator("tbody tr")).to_have_count(1)
    results.locator("tbody tr a").first.click()
    expect(page.get_by_test_id("payment-facts")).to_contain_text(email)
    timeline = page.get_by_test_id("admin-timeline")
    expect(timeline).to_contain_text("PSP event checkout.session.completed")
    expect(timeline).to_contain_text("Job checkout.register")
    expect(timeline.locator("li[data-kind='ledger']").first).to_be_visible()

    page.get_by_test_id("payment-events").get_by_role("row").filter(has_text="checkout.session.completed") \
        .get_by_role("link").click()
    expect(page.get_by_test_id("event-facts")).to_contain_text("Concerns")
    page.get_by_role("button", name="Re-apply").click()
    expect(page.get_by_role("status").first).to_contain_text("will be applied again")
    page.reload()
    expect(page.locator(".page-head .status")).to_have_text("applied", timeout=20_000)

    page.get_by_role("link", name="Background work", exact=True).click()
    expect(page.get_by_test_id("queue-depths")).to_contain_text("waiting in high")
    expect(page.get_by_test_id("dead-letters")).to_be_visible()
    page.get_by_role("link", name="Health", exact=True).click()
    expect(page.get_by_test_id("health-lag")).to_contain_text("webhook lag")
    expect(page.get_by_test_id("health-queues")).to_contain_text("default")

    name = f"Console Shop {secrets.token_hex(3)}"
    page.get_by_role("link", name="Merchants", exact=True).click()
    page.get_by_role("link", name="New merchant").click()
    page.get_by_label("Business name").fill(name)
    page.get_by_label("First user's email").fill(f"owner-{secrets.token_hex(3)}@console.example.com")
    page.get_by_label("First user's password").fill("a long enough password")
    page.get_by_role("button", name="Create merchant").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    fees = page.get_by_test_id("fees-form")
    fees.get_by_label("Percentage, in basis points").fill("250")
    fees.get_by_label("Fixed fee, in minor units").fill("20")
    fees.get_by_role("button", name="Save fee").click()
    expect(page.get_by_test_id("fee-now")).to_have_text("2.5% + 20 minor units")
    page.get_by_test_id("disable-form").get_by_label("Reason").fill("closed its shop")
    page.get_by_role("button", name="Disable merchant").click()
    expect(page.get_by_test_id("merchant-state")).to_have_text("disabled")

    page.get_by_role("link", name="Audit log", exact=True).click()
    page.get_by_label("Action").select_option("merchant.disable")
    page.get_by_role("button", name="Filter").click()
    log = page.get_by_test_id("audit-table")
    expect(log).to_contain_text("closed its shop")
    expect(log).to_contain_text(system.demo["DEMO_ADMIN_EMAIL"])
    page.get_by_label("Action").select_option("psp_event.reapply")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("audit-table").locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"action=psp_event.reapply"))
