"""A shortcut to one day's settlement file without the Reporting API: every column of Stripe's
`balance_change_from_activity.itemized.3`, plus a `payment_metadata[key]`, `refund_metadata[key]` or
`transfer_metadata[key]` column per metadata key present. Made by the same generator as report runs."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request

from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError, invalid
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.reporting import generate
from psp_sandbox.reporting.types import ACTIVITY_COLUMNS, REPORT_TYPES

bp = Blueprint("reports", __name__, url_prefix="/_sandbox/reports")
COLUMNS = list(ACTIVITY_COLUMNS)
_SOURCE_TYPE = {"payment_metadata": "charge", "refund_metadata": "refund", "transfer_metadata": "transfer"}


def metadata_columns(sb: Sandbox, account: str, start: int, end: int) -> list[str]:
    """The metadata columns that the day's rows have values for, sorted."""
    found = sb.store.conn().execute(
        "SELECT DISTINCT s.type, m.key FROM objects b JOIN objects s ON s.id = json_extract(b.data, '$.source')"
        " JOIN json_each(s.data, '$.metadata') m WHERE b.type = 'balance_transaction' AND b.account = ?"
        " AND b.created >= ? AND b.created < ?", (account, start, end),
    ).fetchall()
    columns = {f"{prefix}[{key}]" for kind, key in found for prefix, of in _SOURCE_TYPE.items() if kind == of}
    return sorted(columns)


def itemized(sb: Sandbox, account: str, day: datetime.date) -> Iterator[str]:
    """The day's CSV, chunk by chunk."""
    start = int(datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp())
    end = start + 86_400
    columns = [*COLUMNS, *metadata_columns(sb, account, start, end)]
    selection = generate.Selection(REPORT_TYPES["balance_change_from_activity.itemized.3"], account, start, end,
                                   columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for number, row in enumerate(generate.rows(sb, selection), 1):
        writer.writerow(row)
        if number % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.errorhandler(StripeError)
def _error(error: StripeError) -> tuple[dict, int]:
    return error.as_json(), error.status


@bp.get("/balance_change_from_activity.itemized/<day>.csv")
def download(day: str) -> Response:
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError:
        raise invalid("The day is YYYY-MM-DD.")
    sb: Sandbox = current_app.extensions["psp_sandbox"]
    account = request.args.get("account") or request.headers.get("Stripe-Account") or PLATFORM_ACCOUNT
    name = f"balance_change_from_activity.itemized.3_{account}_{day}.csv"
    return Response(itemized(sb, account, date), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
