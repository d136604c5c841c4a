"""Balance transactions and balances: every movement of money on an account, pending until its
`available_on` (business time), then available."""

from __future__ import annotations

from typing import Any

from psp_sandbox.context import Sandbox
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.store import Row

# Stripe's reporting categories per balance transaction type (see its balance report docs).
CATEGORY = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "refund_failure": "refund_failure",
    "transfer": "transfer",
    "payout": "payout",
    "payout_failure": "payout_reversal",
    "payout_cancel": "payout_reversal",
    "payment_failure_refund": "charge_failure",
    # A transfer reversal: `transfer_refund` on the platform, the destination payment's refund on the account.
    "transfer_refund": "transfer_reversal",
    "payment_refund": "transfer_reversal",
    "adjustment": "other_adjustment",
}
DESCRIPTION = {"charge": "Stripe processing fees"}


def record(
    sb: Sandbox,
    account: str,
    type_: str,
    amount: int,
    currency: str,
    source: str,
    *,
    fee: int = 0,
    description: str | None = None,
    available_on: int | None = None,
    private: dict | None = None,
) -> Row:
    now = sb.clock.now()
    available_on = now if available_on is None else available_on
    status = "available" if available_on <= now else "pending"
    fee_details = [
        {"amount": fee, "application": None, "currency": currency, "description": "Stripe processing fees",
         "type": "stripe_fee"}
    ] if fee else []
    transaction: dict[str, Any] = {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": available_on,
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": CATEGORY[type_],
        "source": source,
        "status": status,
        "type": type_,
    }
    row = sb.store.insert(transaction, account, private)
    _change_balance(sb, account, currency, status, amount - fee)
    if status == "pending":
        sb.store.add_timer(available_on, "funds_available", transaction["id"])
    return row


def make_available(sb: Sandbox, transaction_id: str) -> Row | None:
    row = sb.store.get(transaction_id, type_="balance_transaction")
    if row is None or row["status"] != "pending":
        return None
    row["status"] = "available"
    sb.store.save(row)
    _change_balance(sb, row.account, row["currency"], "pending", -row["net"])
    _change_balance(sb, row.account, row["currency"], "available", row["net"])
    return row


def _change_balance(sb: Sandbox, account: str, currency: str, column: str, delta: int) -> None:
    if column not in ("available", "pending"):
        raise ValueError(column)
    sb.store.conn().execute(
        f"INSERT INTO balances (account, currency, {column}) VALUES (?, ?, ?)"  # noqa: S608 (a fixed column name)
        f" ON CONFLICT (account, currency) DO UPDATE SET {column} = {column} + excluded.{column}",
        (account, currency, delta),
    )


def available(sb: Sandbox, account: str, currency: str) -> int:
    found = sb.store.conn().execute(
        "SELECT available FROM balances WHERE account = ? AND currency = ?", (account, currency)
    ).fetchone()
    return found[0] if found else 0


def amounts(sb: Sandbox, account: str) -> list[tuple[str, int, int]]:
    """(currency, available, pending) per currency the account has ever held; amounts may be negative."""
    return sb.store.conn().execute(
        "SELECT currency, available, pending FROM balances WHERE account = ? ORDER BY currency", (account,)
    ).fetchall()


def balance(sb: Sandbox, account: str, default_currency: str) -> dict:
    """Stripe's Balance. A connected account's amounts can be negative; the platform's `connect_reserved` holds
    what its connected accounts owe (the sum of their negative available balances), as Stripe reserves it."""
    rows = amounts(sb, account) or [(default_currency, 0, 0)]
    body = {
        "object": "balance",
        "available": [_amount(currency, amount) for currency, amount, _ in rows],
        "livemode": False,
        "pending": [_amount(currency, amount) for currency, _, amount in rows],
    }
    if account == PLATFORM_ACCOUNT:
        owed = dict(sb.store.conn().execute(
            "SELECT currency, -SUM(available) FROM balances WHERE account != ? AND available < 0 GROUP BY currency",
            (PLATFORM_ACCOUNT,),
        ).fetchall())
        currencies = sorted({currency for currency, _, _ in rows} | set(owed))
        body["connect_reserved"] = [{"amount": owed.get(currency, 0), "currency": currency} for currency in currencies]
    else:
        body["connect_reserved"] = [{"amount": 0, "currency": currency} for currency, _, _ in rows]
    return body


def _amount(currency: str, amount: int) -> dict:
    return {"amount": amount, "currency": currency, "source_types": {"card": amount}}
