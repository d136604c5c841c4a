"""A payout's statement as CSV, safe to open in a spreadsheet.

Descriptions and ids can carry text a merchant's customers chose (an order reference, say). A cell that starts
with `=`, `+`, `-`, `@` (or a tab or carriage return) would run as a formula in Excel or LibreOffice, so such a
cell is prefixed with a single quote (OWASP "CSV injection"). Amounts are written by us as plain decimal numbers
("-3.15") and stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from webapp.domain.money import Money
from webapp.models import Payout
from webapp.services.payout_reads import StatementLine

HEADER = ["payout_id", "seller_account", "seller_name", "status", "arrival_date", "type", "payment_order_id",
          "checkout_id", "refund_id", "description", "amount", "currency"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def safe_cell(value: object) -> str:
    """The cell's text, neutralised if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def statement_csv(payout: Payout, lines: Iterable[StatementLine]) -> str:
    """One row per statement line; the amounts sum to the payout's amount."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    arrival = payout.arrival_date.isoformat() if payout.arrival_date else ""
    for line in lines:
        writer.writerow([safe_cell(value) for value in (
            payout.id, payout.seller_account_id, payout.seller.display_name, payout.status, arrival, line.kind,
            line.order_reference, line.checkout_id, line.refund_id, line.description,
            Money(line.amount, payout.currency).decimal_string, payout.currency)])
    return out.getvalue()
