"""The audit log: append-only in the database, written by every money-moving and admin action in the same
transaction as the action, readable and filterable by admins."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.support import console, factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.forms import csrf_token, login
from webapp.domain.errors import ValidationError
from webapp.extensions import db
from webapp.services import audit, funds


def test_rows_cannot_be_changed_and_on_postgresql_not_deleted(app, backend):
    audit.record("admin@example.com", "merchant.fees", "merchant", "mer_1", {"after": 1}, "10.0.0.1")
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        db.session.flush()
    db.session.rollback()
    if backend == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text("DELETE FROM audit_log"))
        db.session.rollback()
    [entry] = console.audits()
    assert (entry.actor, entry.action, entry.ip, json.loads(entry.detail)) == \
        ("admin@example.com", "merchant.fees", "10.0.0.1", {"after": 1})


def test_an_action_that_fails_leaves_no_audit_row(app):
    merchant = factories.merchant()
    with pytest.raises(ValidationError, match="basis points"):
        funds.set_fee_schedule(merchant, 20_000, 0)
    db.session.rollback()
    assert console.audits("merchant.fees") == []


def test_api_keys_refunds_payouts_and_fees_are_audited_with_who_and_where(app, client, gateway_psp):
    merchant, sellers, key = pay.merchant_with_sellers()
    [created] = console.audits("api_key.create")
    assert (created.actor, created.target_id) == ("system", created.target_id)  # made outside a request
    event = books.paid_checkout(client, pay.Api(client, key), sellers, gateway_psp.url, amounts=("5.00",))
    api_key_id = created.target_id
    refund = client.post(f"/v1/payments/{event.checkout_id}/refunds", json={
        "payment_order_id": event.orders[0].payment_order_id, "amount": "1.00"},
        headers={"Authorization": f"Bearer {key}"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert refund.status_code == 201, refund.json
    [refunded] = console.audits("refund.create")
    assert (refunded.actor, refunded.ip, refunded.target_id) == (f"api_key:{api_key_id}", "203.0.113.9",
                                                                 refund.json["id"])
    assert json.loads(refunded.detail)["amount"] == 100
    books.drain_money()

    ran = app.test_cli_runner().invoke(args=["payouts", "run"])
    assert ran.exit_code == 0, ran.output
    [run] = console.audits("payout.run")
    assert (run.actor, run.target_type, run.target_id) == ("cli", "payout_run", date.today().isoformat())
    fees = app.test_cli_runner().invoke(args=["merchants", "set-fees", "--merchant", merchant.id, "--bps", "250"])
    assert fees.exit_code == 0, fees.output
    [fee] = console.audits("merchant.fees")
    assert fee.actor == "cli" and json.loads(fee.detail)["after"]["fee_bps"] == 250

    db.session.rollback()
    login(client, merchant.users[0].email, factories.PASSWORD)
    token = csrf_token(client.get("/portal/api-keys").get_data(as_text=True))
    client.post(f"/portal/api-keys/{api_key_id}/revoke", data={"csrf_token": token},
                environ_base={"REMOTE_ADDR": "198.51.100.7"})
    [revoked] = console.audits("api_key.revoke")
    assert (revoked.actor, revoked.ip, revoked.target_id) == (merchant.users[0].email, "198.51.100.7", api_key_id)


def test_admin_reads_filters_and_pages_the_log(app, client):
    for i in range(55):
        audit.record("cli" if i % 2 else "system", "payout.run" if i < 50 else "merchant.fees", "payout_run",
                     f"day-{i}", {"i": i})
    db.session.commit()
    console.admin_client(client)
    first = client.get("/admin/audit")
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and len(re.findall(r'data-testid="audit-\d+"', page)) == 50
    assert "day-54" in page and "day-4<" not in page
    older = page.split('data-testid="next-page" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rest = client.get(older).get_data(as_text=True)
    assert "day-4<" in rest and "day-0<" in rest and "day-54" not in rest and 'data-testid="next-page"' not in rest

    fees = client.get("/admin/audit?action=merchant.fees&actor=cli").get_data(as_text=True)
    assert [i for i in range(55) if f"day-{i}<" in fees] == [51, 53]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert "No audit entries match" in client.get(f"/admin/audit?since={tomorrow}").get_data(as_text=True)
    bad = client.get("/admin/audit?since=yesterday&before=x1")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_console_pages_are_for_admins_only(app, client):
    factories.merchant(email="owner@shop.example.com")
    login(client, "owner@shop.example.com", factories.PASSWORD)
    for path in ("/admin/audit", "/admin/payments", "/admin/work", "/admin/events", "/admin/health",
                 "/admin/merchants/new"):
        assert client.get(path).status_code == 403, path
