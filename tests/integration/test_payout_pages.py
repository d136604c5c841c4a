"""The portal's Payouts pages and the admin's, on real payouts through the sandbox: the list with its filters
and keyset pages, a payout's itemized statement and its CSV (safe in a spreadsheet), Pay out now, a failed payout
in plain words, the admin's failed-first list and Retry once the bank account is replaced; and another
merchant's payouts are not found."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from tests.support.forms import csrf_token, login
from webapp.admin import payouts as admin_pages
from webapp.extensions import db
from webapp.models import AuditEntry, SellerAccount
from webapp.portal import payouts as payout_pages

OWNER = "owner@payouts.example.com"


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def _page(client, path: str, status: int = 200) -> str:
    db.session.rollback()
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _post(client, path: str, page: str, data: dict | None = None):
    token = csrf_token(_page(client, page))
    db.session.rollback()
    return client.post(path, data={**(data or {}), "csrf_token": token})


def _rows(page: str) -> list[str]:
    """The payout ids listed in the page's payout table, in order."""
    table = page.split('data-testid="payout-table"', 1)
    if len(table) == 1:
        return []
    return [part.split('"', 1)[0] for part in table[1].split("</table>", 1)[0].split('data-testid="payout-')[1:]]


def test_payouts_list_filters_pages_statement_and_csv(app, client, psp, monkeypatch):
    merchant = factories.merchant(email=OWNER)
    first, second = po.onboarded_sellers(merchant, po.GOOD_IBANS[:2])
    api = pay.Api(client, factories.api_key(merchant))
    # Order references that a spreadsheet would read as formulas: the CSV must neutralise them.
    event = books.paid_checkout(client, api, [first, second], psp.url, amounts=("30.00", "20.00"), checkout_id="-A1")
    po.make_available(psp.url)
    login(client, OWNER, factories.PASSWORD)

    (scheduled_id,) = po.run_and_submit(seller_id=first.id).created
    now = _post(client, f"/portal/sellers/{second.id}/payout", f"/portal/sellers/{second.id}")
    assert now.status_code == 302
    requested = po.payouts_of(second.id)[0]
    assert now.headers["Location"].endswith(f"/portal/payouts/{requested.id}") and requested.source == "portal"
    assert f"Payout of {requested.amount / 100:.2f} USD to “Seller 1” started" in _page(client, now.headers["Location"])
    po.drain_payouts()
    po.drain_payouts()
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), {p.status for p in po.payouts_of(first.id) + po.payouts_of(second.id)}
                            == {"paid"})[1], what="both paid")

    listed = _page(client, "/portal/payouts")
    assert _rows(listed) == [requested.id, scheduled_id]  # newest first
    assert "Seller 0" in listed and "Seller 1" in listed and listed.count("status-paid") == 2
    assert _rows(_page(client, f"/portal/payouts?seller={first.id}")) == [scheduled_id]
    assert _rows(_page(client, "/portal/payouts?status=failed")) == []
    arrival = po.payouts_of(first.id)[0].arrival_date
    assert arrival is not None
    day = arrival.isoformat()
    assert len(_rows(_page(client, f"/portal/payouts?arrival_from={day}&arrival_to={day}"))) == 2
    assert _rows(_page(client, f"/portal/payouts?arrival_from={(arrival + timedelta(days=1)).isoformat()}")) == []
    assert "Not a valid date value" in _page(client, "/portal/payouts?arrival_from=someday", status=400)

    monkeypatch.setattr(payout_pages, "PAYOUTS_PER_PAGE", 1)
    page_one = _page(client, "/portal/payouts?status=paid")
    assert _rows(page_one) == [requested.id]
    assert f"/portal/payouts?starting_after={requested.id}&status=paid" in page_one
    page_two = _page(client, f"/portal/payouts?starting_after={requested.id}&status=paid")
    assert _rows(page_two) == [scheduled_id] and "Older payouts" not in page_two and "Newest" in page_two

    payout = po.payouts_of(first.id)[0]
    order = event.orders[0]
    statement = _page(client, f"/portal/payouts/{payout.id}")
    assert "-A1-0" in statement and "-A1" in statement and "Payment order" in statement
    total = statement.split('data-testid="statement-total">', 1)[1].split("<", 1)[0]
    assert total == f"{payout.amount / 100:.2f} USD" and payout.amount == sum(i.amount for i in payout.items)
    assert f'/portal/payments/{order.payment_event_id}' in statement

    response = client.get(f"/portal/payouts/{payout.id}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="payout-{payout.id}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["type"], r["payment_order_id"], r["checkout_id"], r["amount"]) for r in rows] == [
        ("payment_order", "'-A1-0", "'-A1", f"{payout.amount / 100:.2f}")]
    assert {r["payout_id"] for r in rows} == {payout.id} and rows[0]["status"] == "paid"
    assert rows[0]["arrival_date"] == day and rows[0]["seller_name"] == "Seller 0"

    # Another merchant sees none of it.
    client.post("/logout", data={"csrf_token": csrf_token(_page(client, "/portal"))})
    login(client, factories.merchant(email="other@payouts.example.com").users[0].email, factories.PASSWORD)
    assert _rows(_page(client, "/portal/payouts")) == []
    for path in (f"/portal/payouts/{payout.id}", f"/portal/payouts/{payout.id}.csv"):
        assert client.get(path).status_code == 404, path
    assert f"starting_after={requested.id}" not in _page(client, f"/portal/payouts?starting_after={requested.id}")


def test_failed_payout_in_plain_words_admin_retries_once_the_bank_account_is_replaced(app, client, psp,
                                                                                       monkeypatch):
    merchant = factories.merchant(email=OWNER)
    (seller,) = po.onboarded_sellers(merchant, [po.NO_ACCOUNT_IBAN])
    paid = books.paid_checkout(client, pay.Api(client, factories.api_key(merchant)), [seller], psp.url,
                               amounts=("12.00",))
    po.make_available(psp.url)
    po.run_and_submit()
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), bool(po.payouts_of(seller.id)[0].psp_reversal_id))[1],
                   what="failed and reversed")
    (failed,) = po.payouts_of(seller.id)
    assert failed.status == "failed"

    login(client, OWNER, factories.PASSWORD)
    shown = _page(client, f"/portal/payouts/{failed.id}")
    assert "This payout failed." in shown and "could not find an account with these details" in shown
    assert "<code>no_account</code>" in shown and "Replace the bank account" in shown
    assert "released when the payout failed" in shown
    seller_page = _page(client, f"/portal/sellers/{seller.id}")
    assert "The last payout was returned by the bank" in seller_page and "status-errored" in seller_page
    client.post("/logout", data={"csrf_token": csrf_token(shown)})

    factories.admin()
    login(client, "admin@platform.example.com", factories.PASSWORD)
    admin = _page(client, "/admin/payouts")
    failed_section = admin.split('data-testid="failed-payouts"', 1)[1].split("</section>", 1)[0]
    assert failed.id in failed_section and merchant.name in failed_section
    assert "could not find an account with these details" in failed_section
    assert "Waiting for the merchant to replace the seller's bank account." in failed_section
    assert 'disabled title="Waiting' in failed_section
    refused = _post(client, f"/admin/payouts/{failed.id}/retry", "/admin/payouts")
    assert refused.status_code == 302
    assert "Not retried: Waiting for the merchant" in _page(client, "/admin/payouts")
    assert len(po.payouts_of(seller.id)) == 1

    # The merchant replaces the IBAN in the portal; the PSP registers it.
    client.post("/logout", data={"csrf_token": csrf_token(admin)})
    login(client, OWNER, factories.PASSWORD)
    replaced = _post(client, f"/portal/sellers/{seller.id}/bank-account", f"/portal/sellers/{seller.id}",
                     {"iban": po.GOOD_IBANS[2]})
    assert replaced.status_code == 302
    pay.wait_until(lambda: (po.drain_payouts(), db.session.get(SellerAccount, seller.id).bank_account_status
                            == "active")[1], what="new bank account registered")
    assert 'data-testid="payouts-active"' in _page(client, f"/portal/sellers/{seller.id}")
    client.post("/logout", data={"csrf_token": csrf_token(_page(client, "/portal"))})

    login(client, "admin@platform.example.com", factories.PASSWORD)
    ready = _page(client, "/admin/payouts").split('data-testid="failed-payouts"', 1)[1].split("</section>", 1)[0]
    assert failed.id in ready and "disabled" not in ready.split(failed.id, 1)[1].split("</tr>", 1)[0]
    retried = _post(client, f"/admin/payouts/{failed.id}/retry", "/admin/payouts")
    assert retried.status_code == 302
    new = po.payouts_of(seller.id)[-1]
    assert new.id != failed.id and new.source == "admin_retry" and new.amount == failed.amount
    [audited] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "payout.pay_now")).all()
    assert (audited.actor, audited.target_id, json.loads(audited.detail)["source"]) == (
        "admin@platform.example.com", new.id, "admin_retry")
    after = _page(client, "/admin/payouts")
    assert f"Payout {new.id} of {new.amount / 100:.2f} USD to “Seller 0” started (retry of {failed.id})" in after
    assert "No failed payouts are waiting" in after
    again = _post(client, f"/admin/payouts/{failed.id}/retry", "/admin/payouts")
    assert again.status_code == 302 and "Not retried: The seller's available balance is zero" in _page(
        client, "/admin/payouts")
    po.drain_payouts()
    po.drain_payouts()
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(seller.id)[-1].status == "paid")[1], what="paid")
    for payout_ref in (new.id, po.payouts_of(seller.id)[-1].psp_payout_id):  # the console finds what it settled
        assert f'data-testid="payment-{paid.id}"' in _page(client, f"/admin/payments?q={payout_ref}")

    monkeypatch.setattr(admin_pages, "PAYOUTS_PER_PAGE", 1)
    newest = _page(client, "/admin/payouts")
    assert _rows(newest) == [new.id] and f"starting_after={new.id}" in newest
    older = _page(client, f"/admin/payouts?starting_after={new.id}")
    assert _rows(older) == [failed.id] and "Older payouts" not in older
    assert 'data-testid="failed-payouts"' not in older  # the failed section heads the first page only
    assert _rows(_page(client, "/admin/payouts?status=failed")) == [failed.id]


def test_admin_payouts_page_is_for_admins_only(app, client):
    factories.merchant(email=OWNER)
    login(client, OWNER, factories.PASSWORD)
    assert client.get("/admin/payouts").status_code == 403
    assert _post(client, "/admin/payouts/pyt_x/retry", "/portal").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(_page(client, "/portal"))})
    factories.admin()
    login(client, "admin@platform.example.com", factories.PASSWORD)
    empty = _page(client, "/admin/payouts")
    assert "No payouts yet." in empty and "No failed payouts are waiting" in empty
    assert "No payouts with this status yet." in _page(client, "/admin/payouts?status=paid")
    _page(client, "/admin/payouts?status=nonsense", status=400)
    assert _post(client, "/admin/payouts/pyt_missing/retry", "/admin/payouts").status_code == 404
    assert client.post("/admin/payouts/pyt_missing/retry", data={}).status_code == 400  # no CSRF token
