"""The portal's payments: search (payment id, checkout id, order id, buyer email by its keyed hash), filters
(status as merchants name it, dates, seller, amounts), keyset pages, and the CSV export of the filtered set,
streamed in batches (checked on 100,000 generated payments)."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import timedelta

from sqlalchemy import bindparam, select, text, update

from tests.support import factories
from tests.support import payments as pay
from tests.support.forms import login
from webapp.dbtypes import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.models import PaymentEvent
from webapp.services import crypto, lookup, payment_search


def _shop(client):
    merchant, sellers, key = pay.merchant_with_sellers(2)
    login(client, merchant.users[0].email, factories.PASSWORD)
    return merchant, sellers, pay.Api(client, key)


def _create(api, sellers, **body) -> PaymentEvent:
    created = api.create(pay.body(sellers, **body))
    assert created.status_code == 201, created.json
    return pay.event(created.json["id"])


def _set(event_id: str, **values) -> None:
    db.session.execute(update(PaymentEvent).where(PaymentEvent.id == event_id).values(**values))
    db.session.commit()


def _listed(client, **params) -> str:
    db.session.rollback()
    response = client.get("/portal/payments", query_string=params)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_search_finds_payments_by_id_checkout_order_and_email(client):
    _, sellers, api = _shop(client)
    ada = _create(api, sellers, checkout_id="order-1001", email="Ada.Lovelace@Example.com")
    bob = _create(api, sellers, checkout_id="order-2002", email="bob@example.com")
    stored = db.session.get(PaymentEvent, ada.id)
    assert "lovelace" not in (stored.buyer_email_hash or "") and stored.buyer_email_enc != "ada.lovelace@example.com"
    assert stored.buyer_email_hash == lookup.email_hash("ada.lovelace@example.com")

    for term in (ada.id, "order-1001", "order-10", "order-1001-1", "ADA.LOVELACE@example.com "):
        html = _listed(client, q=term)
        assert "order-1001" in html and "order-2002" not in html, term
    assert "order-2002" in _listed(client, q="bob@example.com")
    nothing = _listed(client, q="nobody@example.com")
    assert 'data-testid="no-match"' in nothing and bob.checkout_id not in nothing


def test_filters_by_status_in_merchant_words_dates_seller_and_amount(client, app):
    merchant, sellers, api = _shop(client)
    other_seller = factories.seller(merchant, index=2)
    fresh = _create(api, sellers, checkout_id="fresh", amounts=("10.00",))
    left = _create(api, sellers, checkout_id="left", amounts=("20.00",))
    expired = _create(api, sellers, checkout_id="expired", amounts=("30.00",))
    declined = _create(api, sellers, checkout_id="declined", amounts=("40.00",))
    paid = _create(api, [other_seller], checkout_id="paid", amounts=("50.00",))
    long_ago = utcnow() - timedelta(days=3)
    _set(fresh.id, status="EXECUTING")
    _set(left.id, status="EXECUTING", updated_at=long_ago, created_at=long_ago)
    _set(expired.id, status="FAILED", failure_code="expired")
    _set(declined.id, status="FAILED", failure_code="payment_failed")
    _set(paid.id, status="SUCCESS")

    def only(html: str) -> set[str]:
        return {name for name in ("fresh", "left", "expired", "declined", "paid") if f">{name}</a>" in html}

    assert only(_listed(client, status="open")) == {"fresh"}
    assert only(_listed(client, status="abandoned")) == {"left"}
    assert only(_listed(client, status="expired")) == {"expired"}
    assert only(_listed(client, status="failed")) == {"declined"}
    assert only(_listed(client, status="succeeded")) == {"paid"}
    html = _listed(client)
    assert ">Abandoned<" in html and ">Expired<" in html and ">Open<" in html and "Executing" not in html
    today = utcnow().date()
    assert only(_listed(client, created_from=today.isoformat())) == {"fresh", "expired", "declined", "paid"}
    assert only(_listed(client, created_to=(today - timedelta(days=1)).isoformat())) == {"left"}
    assert only(_listed(client, seller=other_seller.id)) == {"paid"}
    assert only(_listed(client, amount_min="20", amount_max="40.00")) == {"left", "expired", "declined"}

    bad = client.get("/portal/payments", query_string={"amount_min": "lots", "created_from": "2026-02-31"})
    assert bad.status_code == 400 and "Write an amount" in bad.get_data(as_text=True)
    assert client.get("/portal/payments.csv", query_string={"amount_min": "lots"}).status_code == 400


def test_keyset_pages_cover_every_payment_once(client):
    _, sellers, api = _shop(client)
    made = {_create(api, sellers, checkout_id=f"p{i:02d}").id for i in range(30)}
    seen: list[str] = []
    after = None
    while True:
        db.session.rollback()
        page = payment_search.page(payment_search.PaymentQuery(merchant_id=pay.event(next(iter(made))).merchant_id),
                                   limit=7, starting_after=after)
        seen += [p.id for p in page.items]
        if not page.has_more:
            break
        after = page.items[-1].id
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    html = _listed(client)
    assert "Older payments" in html
    cursor = html.split("starting_after=", 1)[1].split('"', 1)[0]
    assert client.get("/portal/payments", query_string={"starting_after": cursor}).status_code == 200
    assert client.get("/portal/payments", query_string={"starting_after": "pay_nope"}).status_code == 404


def test_csv_export_has_the_filtered_set_and_is_safe_for_spreadsheets(client):
    _, sellers, api = _shop(client)
    _create(api, sellers, checkout_id="-1-cmd", email="formula@example.com", amounts=("7.00",))
    _create(api, sellers, checkout_id="plain", email="plain@example.com", amounts=("8.00",))
    response = client.get("/portal/payments.csv", query_string={"q": "formula@example.com"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0]["checkout_id"] == "'-1-cmd" and rows[0]["buyer_email"] == "formula@example.com"
    assert rows[0]["amount"] == "7.00" and rows[0]["status"] == "Open"


def test_csv_export_streams_100k_payments_in_batches(client, app):
    merchant, _, _ = _shop(client)
    email = crypto.encrypt("bulk@example.com")
    email_hash = lookup.email_hash("bulk@example.com")
    now = utcnow()
    numbers = ("SELECT generate_series(1, 100000) AS i" if db.engine.dialect.name == "postgresql" else
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n")
    db.session.execute(text(
        "INSERT INTO payment_events (id, merchant_id, checkout_id, request_hash, currency, amount_total, status, "
        "buyer_email_enc, buyer_email_hash, attempt, created_at, updated_at) "
        f"SELECT 'pay_bulk' || i, :merchant, 'bulk-' || i, 'h', 'USD', 100 + i, 'NOT_STARTED', :email, :hash, 0, "
        f":now, :now FROM ({numbers}) AS numbers").bindparams(bindparam("now", type_=UTCDateTime())),
        {"merchant": merchant.id, "email": email, "hash": email_hash, "now": now})
    db.session.commit()
    assert db.session.scalar(select(text("count(*)")).select_from(PaymentEvent)) == 100_000
    db.session.rollback()

    response = client.get("/portal/payments.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    tracemalloc.start()
    lines = chunks = 0
    try:
        for chunk in response.response:
            chunks += 1
            lines += chunk.count(b"\r\n") if isinstance(chunk, bytes) else chunk.count("\r\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    assert lines == 100_001  # the header and every payment
    assert chunks == 1 + 100_000 // payment_search.EXPORT_BATCH  # one chunk per batch: never the whole file
    assert peak < 40 * 1024 * 1024, f"the export held {peak / 2**20:.1f} MiB at its peak"
