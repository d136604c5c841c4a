"""Reconciliation in Chromium: an admin uploads a settlement file with planted differences, watches the run's
progress (live, over the WebSocket: the page updates itself when the run ends), resolves one mismatch with an
adjusting entry (note required) and sees it in the audit trail; the ledger stays clean."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.e2e.test_ledger import sign_in
from tests.support.system import System

HEADER = ("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,"
          "description,payment_intent_id,payment_metadata[payment_event_id],refund_metadata[refund_id],"
          "transfer_metadata[payout_id]")


def _file(path, day: str):
    """Three charges the gateway never booked (one listed twice) and a refund it never made."""
    charges = [f"ch_e2e_{secrets.token_hex(4)}" for _ in range(3)]
    lines = [HEADER]
    for index, charge in enumerate(charges):
        lines.append(f"txn_{charge},{day} 10:0{index}:00,{day} 10:0{index}:00,usd,12.{index}0,0.65,11.{index}5,charge,"
                     f"{charge},,,,,")
    lines.append(lines[1])
    lines.append(f"txn_re_e2e,{day} 11:00:00,{day} 11:00:00,usd,-3.00,0.00,-3.00,refund,re_e2e_{secrets.token_hex(4)},"
                 ",,,,")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_admin_uploads_a_file_watches_the_run_and_adjusts_a_mismatch(page: Page, system: System, tmp_path):
    day = datetime.now(UTC).date().isoformat()
    report = _file(tmp_path / "settlement.csv", day)
    sign_in(page, system, system.demo["DEMO_ADMIN_EMAIL"], system.demo["DEMO_ADMIN_PASSWORD"])
    page.get_by_role("link", name="Reconciliation", exact=True).click()
    page.get_by_label("UTC day").fill(day)
    page.get_by_label("Settlement report (optional)").set_input_files(str(report))
    page.get_by_role("button", name="Run now").click()

    expect(page.get_by_test_id("run-status")).to_contain_text("succeeded", timeout=30_000)  # live: no reload by us
    expect(page.get_by_test_id("run-rows")).to_have_text("5")
    table = page.get_by_test_id("mismatch-table")
    expect(table.locator("tr[data-class='missing_in_ledger']")).to_have_count(4)
    expect(table.locator("tr[data-class='duplicate']")).to_have_count(1)

    table.locator("tr[data-class='missing_in_ledger']").first.get_by_role("link").click()
    expect(page.get_by_test_id("evidence-psp")).to_contain_text("charge")
    form = page.get_by_test_id("adjust-form")
    form.get_by_label("Against").select_option("suspense")
    form.get_by_label("Note").fill("Unknown charge parked in suspense until the PSP explains it")
    form.get_by_role("button", name="Post adjusting entry").click()
    expect(page.get_by_test_id("mismatch-status")).to_contain_text("adjusted")
    trail = page.get_by_test_id("audit-trail")
    expect(trail).to_contain_text("adjust")
    expect(trail).to_contain_text(system.demo["DEMO_ADMIN_EMAIL"])
    expect(trail).to_contain_text("Unknown charge parked in suspense")
    expect(page.get_by_role("main")).to_contain_text("adjustment:")

    page.get_by_role("link", name="Ledger", exact=True).click()
    expect(page.get_by_test_id("ledger-state")).to_have_text("clean")
