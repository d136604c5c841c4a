"""The console's payments: found across merchants by any of our ids or the PSP's, or by the buyer's email (its
keyed lookup hash: the email is stored only encrypted), filtered and paged; one payment's whole timeline."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.support import console
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.sandbox import stripe_client
from webapp.extensions import db
from webapp.models import PaymentEvent, PspCharge
from webapp.services import admin_payment_reads
from webapp.services.admin_payment_reads import PaymentQuery


def _found(client, **params) -> list[str]:
    response = client.get("/admin/payments", query_string=params)
    assert response.status_code == 200, (params, response.status_code)
    return re.findall(r'data-testid="payment-(pay_\w+)"', response.get_data(as_text=True))


def test_search_by_every_kind_of_id_and_the_timeline(app, client, gateway_psp):
    merchant, sellers, key = pay.merchant_with_sellers()
    _, other_sellers, other_key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    paid = books.paid_checkout(client, api, sellers, gateway_psp.url, email="Ada@Example.com",
                               amounts=("4.00",))
    refund = api.client.post(f"/v1/payments/{paid.checkout_id}/refunds", headers=api.headers(),
                             json={"payment_order_id": paid.orders[0].payment_order_id, "amount": "1.50"})
    assert refund.status_code == 201, refund.json
    books.drain_money()
    waiting = pay.Api(client, other_key).create(pay.body(other_sellers, email="ada@example.com")).json
    db.session.rollback()
    charge = db.session.scalar(select(PspCharge).where(PspCharge.payment_event_id == paid.id))
    session = paid.sessions[0]
    psp_refund = stripe_client(gateway_psp.url).v1.refunds.list(
        params={"payment_intent": session.payment_intent_id}).data[0].id
    db.session.rollback()

    console.admin_client(client)
    for text in (paid.id, paid.checkout_id, session.id, session.payment_intent_id, charge.id, refund.json["id"],
                 psp_refund):
        assert _found(client, q=text) == [paid.id], text
    assert _found(client, q=" ADA@example.com ") == [waiting["id"], paid.id]  # newest first, both merchants
    assert _found(client, q="ada@example.com", merchant=merchant.id) == [paid.id]
    assert _found(client, q="ada@example.com", status="NOT_STARTED") == [waiting["id"]]
    assert _found(client, q="nobody@example.com") == [] and _found(client, q="pay_unknown") == []
    assert _found(client, since="2001-01-01", until="2001-01-31") == []
    bad = client.get("/admin/payments?status=PAID&since=31/12/2026&after=garbage")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Status: unknown value" in text and "YYYY-MM-DD" in text

    page = client.get(f"/admin/payments/{paid.id}").get_data(as_text=True)
    timeline = page.split('data-testid="admin-timeline"', 1)[1].split("</ol>", 1)[0]
    for kind in ("activity", "psp_event", "outbox", "refund", "ledger", "audit"):
        assert f'data-kind="{kind}"' in timeline, kind
    assert "checkout.session.completed" in page and "refund.create by api_key:" in page
    assert "register" in page.split('data-testid="payment-jobs"', 1)[1]
    assert "ada@example.com" in page.lower()  # decrypted for the admin
    assert client.get("/admin/payments/pay_missing").status_code == 404


def test_keyset_pages_do_not_skip_or_repeat(app, client):
    _, sellers, key = pay.merchant_with_sellers(1)
    api = pay.Api(client, key)
    ids = [api.create(pay.body(sellers, email="many@example.com")).json["id"] for _ in range(5)]
    db.session.rollback()
    seen, after = [], None
    while True:
        page = admin_payment_reads.search(PaymentQuery(text="many@example.com"), after=after, limit=2)
        seen += [p.id for p in page.payments]
        after = page.next_cursor
        if after is None:
            break
    newest_first = [p.id for p in db.session.scalars(select(PaymentEvent).order_by(
        PaymentEvent.created_at.desc(), PaymentEvent.id.desc()))]
    assert seen == newest_first and sorted(seen) == sorted(ids)
