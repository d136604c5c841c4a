"""Report rows from a sandbox store seeded directly (SQLite file, no server): which transactions each report
type lists, its columns and amounts, and the withhold/duplicate report faults."""

from __future__ import annotations

import io

import pytest

from psp_sandbox.context import Sandbox
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.reporting import generate
from psp_sandbox.reporting.types import REPORT_TYPES
from psp_sandbox.settings import Settings

T = 1_800_000_000
SELLER = "acct_seller00000000001"


@pytest.fixture
def sb(tmp_path):
    sandbox = Sandbox.open(Settings(db_path=tmp_path / "reports.db"))
    store = sandbox.store
    with store.write():
        store.insert({"id": SELLER, "object": "account", "created": T, "country": "DE",
                      "business_profile": {"name": "Seller One"}}, PLATFORM_ACCOUNT)
        store.insert({"id": "po_auto", "object": "payout", "created": T + 50, "arrival_date": T + 86_400,
                      "trace_id": {"status": "supported", "value": "TRACE1"}}, SELLER)
        store.insert({"id": "ch_1", "object": "charge", "created": T, "payment_intent": "pi_1", "metadata": {"o": "7"},
                      "billing_details": {"email": "b@example.com", "name": "B"},
                      "payment_method_details": {"type": "card", "card": {"brand": "visa", "funding": "credit",
                                                                          "country": "US"}}}, PLATFORM_ACCOUNT)
        store.insert({"id": "re_1", "object": "refund", "created": T + 5, "charge": "ch_1", "metadata": {}},
                     PLATFORM_ACCOUNT)
        _txn(store, "txn_charge", PLATFORM_ACCOUNT, T, 10_000, 320, "charge", "ch_1", "jpy")
        _txn(store, "txn_refund", PLATFORM_ACCOUNT, T + 5, -2_500, 0, "refund", "re_1", "jpy")
        _txn(store, "txn_payout_platform", PLATFORM_ACCOUNT, T + 10, -5_000, 0, "payout", "po_manual", "jpy")
        _txn(store, "txn_seller_1", SELLER, T + 20, 4_000, 0, "transfer", "py_1", "eur", payout="po_auto")
        _txn(store, "txn_seller_2", SELLER, T + 30, -150, 0, "transfer_reversal", "pyr_1", "eur", payout="po_auto")
        _txn(store, "txn_seller_po", SELLER, T + 50, -3_850, 0, "payout", "po_auto", "eur", payout="po_auto")
        _txn(store, "txn_seller_later", SELLER, T + 60, 999, 0, "transfer", "py_2", "eur")
    return sandbox


def _txn(store, txn_id, account, created, amount, fee, category, source, currency, payout=None):
    store.insert({"id": txn_id, "object": "balance_transaction", "created": created, "available_on": created,
                  "amount": amount, "fee": fee, "net": amount - fee, "currency": currency,
                  "reporting_category": category, "source": source, "description": None}, account,
                 {"automatic_payout": payout} if payout else None)


def _rows(sb, type_id, columns=None, **options) -> list[dict]:
    kind = REPORT_TYPES[type_id]
    selection = generate.Selection(kind, options.pop("account", PLATFORM_ACCOUNT), options.pop("start", T),
                                   options.pop("end", T + 2 * 86_400), list(columns or kind.default_columns),
                                   **options)
    out = io.StringIO()
    generate.write_csv(sb, selection, out)
    lines = out.getvalue().splitlines()
    header = lines[0].split(",")
    assert header == selection.columns
    return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]


def test_activity_lists_the_accounts_transactions_in_major_units(sb):
    rows = _rows(sb, "balance_change_from_activity.itemized.3",
                 ["balance_transaction_id", "created_utc", "gross", "fee", "net", "reporting_category", "charge_id",
                  "customer_email", "payment_metadata[o]"])
    assert [r["balance_transaction_id"] for r in rows] == ["txn_charge", "txn_refund", "txn_payout_platform"]
    assert rows[0] | {} == {**rows[0], "gross": "10000", "fee": "320", "net": "9680", "charge_id": "ch_1",
                            "customer_email": "b@example.com", "payment_metadata[o]": "7"}, "JPY has no decimals"
    assert rows[1]["charge_id"] == "ch_1" and rows[1]["payment_metadata[o]"] == "7", "a refund row shows its charge"
    assert rows[0]["created_utc"] == "2027-01-15 08:00:00"
    assert _rows(sb, "balance_change_from_activity.itemized.3", reporting_category="refund")[0]["gross"] == "-2500"


def test_timezone_changes_local_columns_only(sb):
    row = _rows(sb, "balance_change_from_activity.itemized.3", ["created_utc", "created"], timezone="Europe/Berlin")[0]
    assert (row["created_utc"], row["created"]) == ("2027-01-15 08:00:00", "2027-01-15 09:00:00")


def test_connected_accounts_report_covers_every_connected_account(sb):
    rows = _rows(sb, "connected_account_balance_change_from_activity.itemized.3",
                 ["connected_account", "balance_transaction_id", "net", "connected_account_name"])
    assert [(r["connected_account"], r["balance_transaction_id"], r["net"]) for r in rows] == [
        (SELLER, "txn_seller_1", "40.00"), (SELLER, "txn_seller_2", "-1.50"), (SELLER, "txn_seller_po", "-38.50"),
        (SELLER, "txn_seller_later", "9.99")]
    assert rows[0]["connected_account_name"] == "Seller One"
    assert _rows(sb, "connected_account_balance_change_from_activity.itemized.3", connected_account="acct_none") == []


def test_payout_reconciliation_itemizes_what_each_automatic_payout_settles(sb):
    rows = _rows(sb, "payout_reconciliation.itemized.5", None, account=SELLER)
    assert [(r["automatic_payout_id"], r["balance_transaction_id"], r["net"]) for r in rows] == [
        ("po_auto", "txn_seller_1", "40.00"), ("po_auto", "txn_seller_2", "-1.50")]
    assert sum(float(r["net"]) for r in rows) == 38.5, "the settled rows add up to the payout"
    assert rows[0]["automatic_payout_effective_at"] == "2027-01-16 08:00:00"
    traced = _rows(sb, "payout_reconciliation.itemized.5", ["automatic_payout_id", "trace_id"], account=SELLER,
                   payout="po_auto")
    assert {r["trace_id"] for r in traced} == {"TRACE1"}
    assert _rows(sb, "payout_reconciliation.itemized.5", account=SELLER, start=T + 2 * 86_400,
                 end=T + 3 * 86_400) == [], "the interval applies to the payout's arrival"


def test_balance_summary_adds_up(sb):
    rows = _rows(sb, "balance.summary.1", account=SELLER, start=T + 25, end=T + 86_400)
    assert [(r["category"], r["net_amount"]) for r in rows] == [
        ("starting_balance", "40.00"), ("activity", "8.49"), ("payouts", "-38.50"), ("ending_balance", "9.99")]


def test_report_faults_withhold_and_duplicate_rows(sb):
    rows = _rows(sb, "balance_change_from_activity.itemized.3", ["balance_transaction_id"],
                 withhold={"ch_1"}, duplicate={"txn_refund"})
    assert [r["balance_transaction_id"] for r in rows] == ["txn_refund", "txn_refund", "txn_payout_platform"]


def test_next_report_fault_is_used_once(sb):
    sb.faults.configure_report({"withhold": "txn_charge"})
    assert sb.faults.take_report_rows() == (["txn_charge"], [])
    assert sb.faults.take_report_rows() == ([], [])
    sb.faults.configure_report({"duplicate": ["a", "b"], "runs": "all"})
    assert sb.faults.take_report_rows() == sb.faults.take_report_rows() == ([], ["a", "b"])
