"""The command line and the admin queue: a day with a fee difference found from a file (`flask reconcile run
--file --json`, exit status 1), resolved on the admin page with an adjusting entry (a real journal entry, with the
required note and an audit row), a re-run that does not adjust twice, and `flask reconcile show`."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import reconciliation as recon
from tests.support.forms import csrf_token, login
from webapp.extensions import db
from webapp.models import AuditEntry, LedgerEntry, ReconAction, ReconMismatch


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def test_cli_then_admin_adjusting_entry_then_rerun(app, client, psp, tmp_path):
    _, sellers, key = pay.merchant_with_sellers()
    books.paid_checkout(client, pay.Api(client, key), sellers, psp.url, amounts=("20.00",))
    day = recon.psp_day(psp.url)
    header, lines = recon.rows(recon.report_csv(psp.url, day))
    lines[0]["fee"] = f"{float(lines[0]['fee']) + 0.07:.2f}"  # the PSP kept 7 cents more than we booked
    path = recon.write(tmp_path / "day.csv", header, lines)
    runner = app.test_cli_runner()

    found = runner.invoke(args=["reconcile", "run", "--date", day.isoformat(), "--file", str(path), "--json"])
    assert found.exit_code == 1, found.output
    body = json.loads(found.output)
    assert (body["date"], body["source"], body["rows"], body["matched"]) == (day.isoformat(), "file", 1, 0)
    [mismatch] = body["mismatches"]
    assert mismatch["class"] == "fee_mismatch" and mismatch["status"] == "open"
    assert mismatch["source_id"] == lines[0]["source_id"] and mismatch["balance_transaction_id"] == \
        lines[0]["balance_transaction_id"]
    assert mismatch["amount_psp"] == mismatch["amount_ours"] == 2000 and mismatch["currency"] == "USD"

    factories.admin()
    db.session.rollback()
    login(client, "admin@platform.example.com", factories.PASSWORD)
    page = client.get("/admin/reconciliation").get_data(as_text=True)
    assert "fee mismatch" in page and day.isoformat() in page
    stored = db.session.scalar(select(ReconMismatch))
    assert stored is not None
    detail = client.get(f"/admin/reconciliation/mismatches/{stored.id}").get_data(as_text=True)
    assert 'data-testid="evidence-psp"' in detail and 'data-testid="evidence-ours"' in detail
    token = csrf_token(detail)
    refused = client.post(f"/admin/reconciliation/mismatches/{stored.id}/adjust",
                          data={"csrf_token": token, "target": "psp_fees", "amount": "-0.07", "note": " "},
                          follow_redirects=True)
    assert "A note is required" in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(ReconMismatch, stored.id).status == "open"
    done = client.post(f"/admin/reconciliation/mismatches/{stored.id}/adjust",
                       data={"csrf_token": token, "target": "psp_fees", "amount": "-0.07",
                             "note": "Stripe's fee was 7 cents higher"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert re.search(r"status-adjusted", html) and "Stripe&#39;s fee was 7 cents higher" in html
    db.session.rollback()
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "adjustment"))
    assert entry is not None and "7 cents higher" in entry.memo
    assert books.platform("psp_fees") == lines_fee_minor(lines[0]) and books.platform("suspense") == 0
    [action] = db.session.scalars(select(ReconAction)).all()
    assert (action.actor, action.action) == ("admin@platform.example.com", "adjust")
    assert json.loads(action.before)["status"] == "open" and json.loads(action.after)["status"] == "adjusted"
    [logged] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reconciliation.adjust")).all()
    assert (logged.actor, logged.target_id, logged.ip) == ("admin@platform.example.com", stored.id, "127.0.0.1")
    assert json.loads(logged.detail)["after"]["status"] == "adjusted"
    health = client.get("/admin/health").get_data(as_text=True).split('data-testid="health-last-run"', 1)[1]
    assert day.isoformat() in health.split("</dl>", 1)[0]

    rerun = runner.invoke(args=["reconcile", "run", "--date", day.isoformat(), "--file", str(path), "--json"])
    assert rerun.exit_code == 0, rerun.output  # still found, still adjusted: nothing open, nothing posted twice
    assert [(m["class"], m["status"]) for m in json.loads(rerun.output)["mismatches"]] == [("fee_mismatch",
                                                                                             "adjusted")]
    db.session.rollback()
    assert len(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjustment")).all()) == 1
    shown = runner.invoke(args=["reconcile", "show", "--date", day.isoformat()])
    assert shown.exit_code == 0 and "fee_mismatch" in shown.output


def lines_fee_minor(line: dict[str, str]) -> int:
    return round(float(line["fee"]) * 100)


def test_merchants_cannot_open_reconciliation(client):
    factories.merchant(email="owner@recon.example.com")
    login(client, "owner@recon.example.com", factories.PASSWORD)
    assert client.get("/admin/reconciliation").status_code == 403
