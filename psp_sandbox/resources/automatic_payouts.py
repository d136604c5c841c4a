"""One scheduled payout run of a connected account (the rules are in schedules.py's docstring), and which
balance transactions an automatic payout settles."""

from __future__ import annotations

from psp_sandbox.context import Sandbox
from psp_sandbox.resources import external_accounts, ledger, payouts
from psp_sandbox.store import Row

DAY = 86_400
# What `delay_days` holds back: incoming payments (a charge, or a transfer's payment on a connected account).
# Returned payouts, reversals and debits are paid out (or recovered) by the next run.
HELD = ("charge", "payment")


def pay_out_due(sb: Sandbox, account: Row, due: int) -> list[Row]:
    """Open one automatic payout per currency with something to pay at `due`; returns them."""
    if not account["payouts_enabled"]:
        return []
    settings = account["settings"]["payouts"]
    opened = []
    delay_days = settings["schedule"]["delay_days"]
    for currency, items in _unsettled(sb, account["id"], due, delay_days).items():
        amount = sum(item["net"] for item in items)
        if amount < 0:
            if not settings["debit_negative_balances"] or ledger.available(sb, account["id"], currency) >= 0:
                continue
            # Debit exactly the negative balance: every unsettled transaction, held credits included.
            items = _unsettled(sb, account["id"], due, 0)[currency]
            amount = sum(item["net"] for item in items)
        if amount == 0:
            continue
        bank = external_accounts.default_for(sb, account["id"], currency)
        if bank is None or bank["status"] == "errored":
            continue  # Stripe stops scheduled payouts to an errored bank account until its details change
        payout = payouts.open_payout(sb, account["id"], amount, currency, bank, automatic=True)
        for item in items:
            item.private["automatic_payout"] = payout["id"]
            sb.store.save(item)
        opened.append(payout)
    return opened


def _unsettled(sb: Sandbox, account_id: str, due: int, delay_days: int) -> dict[str, list[Row]]:
    # Funds due by now may still be marked pending if their own timer sorts after this run in the same batch.
    for pending in sb.store.select("type = 'balance_transaction' AND account = ? AND json_extract(data, "
                                   "'$.status') = 'pending' AND json_extract(data, '$.available_on') <= ?",
                                   [account_id, due], "seq ASC"):
        ledger.make_available(sb, pending["id"])
    rows = sb.store.select(
        "type = 'balance_transaction' AND account = ? AND created <= ? AND json_extract(data, '$.available_on') <= ?"
        " AND json_extract(private, '$.automatic_payout') IS NULL",
        [account_id, due, due], "seq ASC",
    )
    by_currency: dict[str, list[Row]] = {}
    for row in rows:
        if row["type"] in HELD and row["created"] + delay_days * DAY > due:
            continue  # incoming payments are held `delay_days` days before they are paid out
        by_currency.setdefault(row["currency"], []).append(row)
    return by_currency


def settled_by(sb: Sandbox, account: str, payout_id: str) -> list[Row]:
    """The balance transactions an automatic payout settles, its own included (what Stripe itemizes)."""
    return sb.store.select("type = 'balance_transaction' AND account = ? AND json_extract(private, "
                           "'$.automatic_payout') = ?", [account, payout_id])
