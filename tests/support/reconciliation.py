"""Helpers for reconciliation tests: a day of real activity in a sandbox of the test's own, its settlement report
fetched through the SDK exactly as the gateway does (report run → file on the files host), edited, and reconciled."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from pathlib import Path

import requests

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.sandbox import API_KEY, advance_clock, sandbox_now, stripe_client
from webapp.domain.reconciliation import day_bounds, day_of
from webapp.extensions import db
from webapp.services.reconciliation import runs
from webapp.services.reconciliation.settlement import CONNECTED_COLUMNS, PLATFORM_COLUMNS


def psp_day(psp_url: str) -> date:
    return day_of(sandbox_now(psp_url))


def refund(api: pay.Api, checkout_id: str, order_id: str, amount: str) -> str:
    db.session.rollback()
    created = api.client.post(f"/v1/payments/{checkout_id}/refunds", json={"payment_order_id": order_id,
                                                                           "amount": amount}, headers=api.headers())
    assert created.status_code == 201, created.json
    books.drain_money(books.refunds.CREATE_TOPIC)
    return created.json["id"]


def report_csv(psp_url: str, day: date, connected: bool = False) -> str:
    """The day's report (and the next day's, as far as there is data) through the Reporting API, as the gateway
    asks for it."""
    client = stripe_client(psp_url)
    advance_clock(psp_url, 2)  # a report's data ends at the PSP's "now" (exclusive): include the last second
    report_type = ("connected_account_balance_change_from_activity.itemized.3" if connected
                   else "balance_change_from_activity.itemized.3")
    start, end = day_bounds(day)
    available = client.v1.reporting.report_types.retrieve(report_type)
    run = client.v1.reporting.report_runs.create({"report_type": report_type, "parameters": {
        "interval_start": start, "interval_end": min(end + 86_400, available.data_available_end),
        "columns": list(CONNECTED_COLUMNS if connected else PLATFORM_COLUMNS)}})
    deadline = time.monotonic() + 30
    while run.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
        run = client.v1.reporting.report_runs.retrieve(run.id)
    assert run.status == "succeeded", run
    response = requests.get(f"{psp_url}/v1/files/{run.result.id}/contents", auth=(API_KEY, ""), timeout=30)
    response.raise_for_status()
    return response.text


def rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def write(path: Path, header: list[str], lines: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)
    return path


def reconcile(day: date, *files: Path) -> runs.RunResult:
    db.session.rollback()
    return runs.run_day(day, files=[(f, f.name) for f in files], triggered_by="test")


def classes(result: runs.RunResult) -> list[tuple[str, str | None]]:
    return sorted((m.class_name, m.source_id) for m in result.mismatches)


def refund_paid(refund_id: str) -> bool:
    from sqlalchemy import select

    from webapp.models import LedgerEntry

    db.session.rollback()
    return db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.refund_id == refund_id,
                                                          LedgerEntry.kind == "refund_paid")) is not None


def any_refund_paid() -> bool:
    from sqlalchemy import select

    from webapp.models import LedgerEntry

    db.session.rollback()
    return db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "refund_paid")) is not None
