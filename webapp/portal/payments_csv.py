"""The filtered payments as CSV, streamed: one keyset batch at a time is read, written and let go, so an export of
100,000 payments holds one batch in memory, never the file. Cells are made safe for spreadsheets (safe_cell)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

from webapp.dbtypes import utcnow
from webapp.domain.money import Money
from webapp.domain.payment_words import LABELS, merchant_status
from webapp.portal.statement_csv import safe_cell
from webapp.services import crypto, payment_search
from webapp.services.payment_search import PaymentQuery

HEADER = ["payment_id", "checkout_id", "created_at", "status", "amount", "currency", "refunded", "buyer_email",
          "buyer_name", "order_ids", "seller_accounts"]


def rows(query: PaymentQuery, abandoned_after: timedelta) -> Iterator[str]:
    """The CSV text: the header, then one chunk per batch of payments."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield out.getvalue()
    now = utcnow()
    for batch, refunded in payment_search.batches(query):
        out.seek(0)
        out.truncate()
        for p in batch:
            status = merchant_status(p.status, p.failure_code, p.updated_at, now, abandoned_after)
            writer.writerow([safe_cell(value) for value in (
                p.id, p.checkout_id, p.created_at.isoformat(), LABELS[status],
                Money(p.amount_total, p.currency).decimal_string, p.currency,
                Money(refunded.get(p.id, 0), p.currency).decimal_string, crypto.decrypt(p.buyer_email_enc),
                crypto.decrypt_optional(p.buyer_name_enc) or "", " ".join(o.payment_order_id for o in p.orders),
                " ".join(sorted({o.seller_account_id for o in p.orders})))])
        yield out.getvalue()
