"""Reconciling days fetched from the PSP through the SDK (report runs, files host, balances), each scenario made to
happen for real in a sandbox of the test's own: found with its class, nothing else reported."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import reconciliation as recon
from tests.support.sandbox import advance_clock, clear_faults, pay_session, sandbox_now, set_faults
from webapp.extensions import db
from webapp.models import PspCharge, ReconAction, ReconImport
from webapp.services.reconciliation import runs


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


@pytest.fixture
def shop(client):
    _, sellers, key = pay.merchant_with_sellers()
    return sellers, pay.Api(client, key)


def _run(psp_url: str, day=None) -> runs.RunResult:
    advance_clock(psp_url, 2)  # the report ends at the PSP's "now": let the last second in
    db.session.rollback()
    return runs.run_day(day or recon.psp_day(psp_url), triggered_by="test")


def test_a_clean_day_fetched_from_the_psp(app, client, psp, shop):
    sellers, api = shop
    event = books.paid_checkout(client, api, sellers, psp.url)
    recon.refund(api, event.checkout_id, event.orders[0].payment_order_id, "1.00")
    pay.wait_until(lambda: (books.drain_money(), recon.any_refund_paid())[1], what="refund paid")
    result = _run(psp.url)
    assert result.run.source == "psp" and result.run.status == "succeeded"
    assert (result.run.rows, result.run.matched, result.mismatches) == (2, 2, [])
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["reconcile", "show", "--date", result.run.day.isoformat(), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["mismatches"] == []


def test_a_lost_checkout_webhook_is_fetched_again_and_applied(app, client, psp, shop):
    sellers, api = shop
    created = api.create(pay.body(sellers, amounts=("7.00",)))
    pay.press_pay(client, created.json["id"])
    pay.drain("checkout.register")
    event = pay.event(created.json["id"])
    set_faults(psp.url, {"webhooks": {"drop_rate": 1.0}})
    assert pay_session(psp.url, event.psp_session_id)["status"] == "succeeded"
    clear_faults(psp.url)
    assert pay.event(event.id).status == "EXECUTING"  # we never heard

    result = _run(psp.url)
    assert [(m.class_name, m.status, m.movement) for m in result.mismatches] == [
        ("missing_in_ledger", "auto_resolved", "charge")]
    assert pay.event(event.id).status == "SUCCESS"
    charge = db.session.scalar(select(PspCharge).where(PspCharge.payment_event_id == event.id))
    assert charge is not None and result.mismatches[0].source_id == charge.id  # the fee job booked it too
    trail = db.session.scalars(select(ReconAction).where(ReconAction.mismatch_id == result.mismatches[0].id)).all()
    assert [(a.actor, a.action) for a in trail] == [("reconciliation", "auto_resolve")]
    assert result.run.open_count == 0
    again = _run(psp.url)  # the day is clean now; the fix is not undone or repeated
    assert again.mismatches == [] and again.run.open_count == 0


def test_withheld_and_duplicated_report_rows(app, client, psp, shop):
    sellers, api = shop
    first = books.paid_checkout(client, api, sellers, psp.url)
    second = books.paid_checkout(client, api, sellers, psp.url, amounts=("4.00",))
    charges = {c.payment_event_id: c.id for c in db.session.scalars(select(PspCharge))}
    requests.post(f"{psp.url}/_sandbox/faults/report", json={
        "withhold": [charges[first.id]], "duplicate": [charges[second.id]], "runs": "next"}, timeout=10)
    result = _run(psp.url)
    assert recon.classes(result) == sorted([("missing_at_psp", charges[first.id]),
                                            ("duplicate", charges[second.id])])
    assert result.run.open_count == 2
    # Re-running the day replaces its findings: the report is whole again, so both are cleared.
    rerun = _run(psp.url)
    assert rerun.mismatches == [] and rerun.run.open_count == 0


def test_a_refund_that_bounced_after_we_booked_its_success(app, client, psp, shop):
    sellers, api = shop
    event = books.paid_checkout(client, api, sellers, psp.url, card_number="4000000000005126")
    refund_id = recon.refund(api, event.checkout_id, event.orders[0].payment_order_id, "1.00")
    pay.wait_until(lambda: (books.drain_money(), recon.refund_paid(refund_id))[1], what="refund paid")
    requests.post(f"{psp.url}/_sandbox/webhooks/pause", timeout=10)  # the bounce's webhooks never arrive
    advance_clock(psp.url, 3_601)
    result = _run(psp.url, recon.psp_day(psp.url))
    assert [(m.class_name, m.movement) for m in result.mismatches] == [("status_mismatch", "refund_failure")]
    assert result.mismatches[0].status == "open" and result.run.open_count == 1


def test_the_same_file_twice_is_one_import(app, client, psp, shop, tmp_path):
    sellers, api = shop
    books.paid_checkout(client, api, sellers, psp.url)
    day = recon.psp_day(psp.url)
    header, lines = recon.rows(recon.report_csv(psp.url, day))
    lines[0]["fee"] = f"{float(lines[0]['fee']) + 0.05:.2f}"
    path = recon.write(tmp_path / "fee.csv", header, lines)
    first = recon.reconcile(day, path)
    second = recon.reconcile(day, recon.write(tmp_path / "copy.csv", header, lines))
    assert recon.classes(first) == recon.classes(second) == [("fee_mismatch", lines[0]["source_id"])]
    assert first.mismatches[0].id == second.mismatches[0].id
    assert len(db.session.scalars(select(ReconImport)).all()) == 1


def test_timing_a_movement_we_booked_before_midnight_that_the_psp_lists_after_it(app, client, psp, shop):
    """The PSP's clock runs a little ahead of ours: its 00:00:01 is our 23:59:59. Each day's run carries the
    difference; the run of the other day finds its counterpart and settles it."""
    sellers, api = shop
    created = api.create(pay.body(sellers, amounts=("6.00",)))
    pay.press_pay(client, created.json["id"])
    pay.drain("checkout.register")
    event = pay.event(created.json["id"])
    ours_day = recon.psp_day(psp.url)  # the sandbox starts on our clock
    advance_clock(psp.url, 86_400 - sandbox_now(psp.url) % 86_400 + 1)  # 00:00:01 of the next day at the PSP
    assert pay_session(psp.url, event.psp_session_id)["status"] == "succeeded"
    pay.settle(event.id, "SUCCESS")
    books.drain_money()
    psp_day = recon.psp_day(psp.url)
    assert psp_day != ours_day

    first = _run(psp.url, ours_day)
    assert [(m.class_name, m.movement, m.status) for m in first.mismatches] == [("timing", "charge", "open")]
    assert first.run.open_count == 1
    second = _run(psp.url, psp_day)
    assert second.mismatches == []  # the counterpart of the carried difference: settled, not reported again
    db.session.refresh(first.mismatches[0])
    assert first.mismatches[0].status == "auto_resolved"
    assert runs.stored(ours_day).run.open_count == 1 and findings_open(ours_day) == 0


def findings_open(day) -> int:
    from webapp.services.reconciliation import findings

    db.session.rollback()
    return findings.open_count(day)
