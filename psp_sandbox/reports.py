"""Settlement files: one day's balance transactions as Stripe's `balance_change_from_activity.itemized.3`
report (CSV, amounts in major units, times in UTC), per account."""

from __future__ import annotations

import csv
import datetime
import io

from flask import Blueprint, Response, current_app, request

from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError, invalid
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.money import major
from psp_sandbox.store import Row

bp = Blueprint("reports", __name__, url_prefix="/_sandbox/reports")

_ADDRESS = ("line1", "line2", "city", "state", "postal_code", "country")
COLUMNS = [
    "balance_transaction_id", "created_utc", "created", "available_on_utc", "available_on", "currency", "gross",
    "fee", "net", "reporting_category", "source_id", "description", "customer_facing_amount",
    "customer_facing_currency", "regulatory_tag", "automatic_payout_id", "automatic_payout_effective_at_utc",
    "automatic_payout_effective_at", "customer_id", "customer_email", "customer_name", "customer_description",
    *(f"{prefix}_{part}" for prefix in ("customer_shipping_address", "customer_address", "shipping_address",
                                        "card_address") for part in _ADDRESS),
    "charge_id", "payment_intent_id", "charge_created_utc", "charge_created", "invoice_id", "invoice_number",
    "subscription_id", "payment_method_type", "is_link", "card_brand", "card_funding", "card_country",
    "statement_descriptor", "dispute_reason", "connected_account_id", "connected_account_name",
    "connected_account_country", "connected_account_direct_charge_id",
]
_METADATA = {"charge": "payment_metadata", "refund": "refund_metadata", "transfer": "transfer_metadata"}


def _utc(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def itemized(sb: Sandbox, account: str, day: datetime.date) -> str:
    start = int(datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp())
    transactions = sb.store.select(
        "type = 'balance_transaction' AND account = ? AND created >= ? AND created < ?",
        [account, start, start + 86_400], "seq ASC",
    )
    rows = [_row(sb, transaction) for transaction in transactions]
    extra = sorted({key for row in rows for key in row if key not in COLUMNS})
    out = io.StringIO()
    writer = csv.DictWriter(out, [*COLUMNS, *extra], restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _row(sb: Sandbox, transaction: Row) -> dict[str, str]:
    currency = transaction["currency"]
    row = {
        "balance_transaction_id": transaction["id"], "created_utc": _utc(transaction["created"]),
        "created": _utc(transaction["created"]), "available_on_utc": _utc(transaction["available_on"]),
        "available_on": _utc(transaction["available_on"]), "currency": currency,
        "gross": major(transaction["amount"], currency), "fee": major(transaction["fee"], currency),
        "net": major(transaction["net"], currency), "reporting_category": transaction["reporting_category"],
        "source_id": transaction["source"] or "", "description": transaction["description"] or "",
    }
    source = sb.store.get(transaction["source"]) if transaction["source"] else None
    if source is not None:
        row.update(_metadata(source))
        if source["object"] == "refund":
            source = sb.store.get(source["charge"]) or source
        if source["object"] == "charge":
            row.update(_charge_columns(source))
            row["customer_facing_amount"] = row["gross"]
            row["customer_facing_currency"] = currency
        elif source["object"] == "transfer":
            row.update(_transfer_columns(sb, source))
    return row


def _metadata(source: Row) -> dict[str, str]:
    prefix = _METADATA.get(source["object"])
    return {f"{prefix}[{key}]": value for key, value in (source.get("metadata") or {}).items()} if prefix else {}


def _charge_columns(charge: Row) -> dict[str, str]:
    details = charge.get("payment_method_details") or {}
    card = details.get("card") or {}
    billing = charge.get("billing_details") or {}
    return {
        "charge_id": charge["id"], "payment_intent_id": charge.get("payment_intent") or "",
        "charge_created_utc": _utc(charge["created"]), "charge_created": _utc(charge["created"]),
        "customer_email": billing.get("email") or "", "customer_name": billing.get("name") or "",
        "payment_method_type": details.get("type", ""), "is_link": "false",
        "card_brand": card.get("brand", ""), "card_funding": card.get("funding", ""),
        "card_country": card.get("country", ""),
        **_metadata(charge),
    }


def _transfer_columns(sb: Sandbox, transfer: Row) -> dict[str, str]:
    destination: dict = sb.store.get(transfer["destination"]) or {}
    return {
        "connected_account_id": transfer["destination"],
        "connected_account_name": (destination.get("business_profile") or {}).get("name") or "",
        "connected_account_country": destination.get("country", ""),
    }


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
