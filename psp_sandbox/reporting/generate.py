"""Report rows, streamed: one SQL query walks the balance transactions in order and each row is formatted
and written as it comes, so a report over millions of transactions needs the memory of one row.

Objects a row needs beyond the balance transaction itself (the charge, refund or transfer behind it, the
automatic payout that settles it) are joined in the same query, and only when a requested column needs them.
"""

from __future__ import annotations

import csv
import datetime
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from zoneinfo import ZoneInfo

from psp_sandbox.context import Sandbox
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.money import exponent
from psp_sandbox.reporting.types import METADATA_PREFIXES, ReportType

# Columns read from the balance transaction alone; any other column needs the joined objects.
_OWN = {"balance_transaction_id", "created_utc", "created", "available_on_utc", "available_on", "currency", "gross",
        "fee", "net", "reporting_category", "source_id", "description", "automatic_payout_id", "connected_account"}
_PAYOUT = {"automatic_payout_effective_at_utc", "automatic_payout_effective_at", "trace_id", "trace_id_status"}
_METADATA_OF = {"payment_metadata": "charge", "refund_metadata": "refund", "transfer_metadata": "transfer"}


@dataclass
class Selection:
    """What one report covers: whose transactions, which period and filters, which columns, and the
    report faults (ids whose rows are withheld or written twice)."""

    report_type: ReportType
    account: str
    interval_start: int
    interval_end: int
    columns: list[str]
    timezone: str = "UTC"
    currency: str | None = None
    reporting_category: str | None = None
    connected_account: str | None = None
    payout: str | None = None
    withhold: set[str] = field(default_factory=set)
    duplicate: set[str] = field(default_factory=set)


def write_csv(sb: Sandbox, selection: Selection, out: IO[str]) -> int:
    """Write the report as CSV (header first) to `out`; returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(selection.columns)
    count = 0
    for row in rows(sb, selection):
        writer.writerow(row)
        count += 1
    return count


def rows(sb: Sandbox, selection: Selection) -> Iterator[list[str]]:
    if selection.report_type.rows == "summary":
        yield from _summary(sb, selection)
        return
    columns = selection.columns
    needs_source = any(c not in _OWN and c not in _PAYOUT for c in columns)
    needs_payout = selection.report_type.rows == "payout" or any(c in _PAYOUT for c in columns)
    sql, args = _query(selection, needs_source, needs_payout)
    zone = None if selection.timezone in ("UTC", "Etc/UTC") else ZoneInfo(selection.timezone)
    accounts = _AccountNames(sb)
    wanted = frozenset(columns)
    own = _own_columns(zone)
    getters = [own.get(column) for column in columns]
    # Columns of the transaction alone are read straight from the row; the others need the joined objects.
    joined = any(getter is None for getter in getters)
    faults = bool(selection.withhold or selection.duplicate)
    for record in sb.store.conn().execute(sql, args):
        values = _values(record, needs_source, zone, accounts, wanted) if joined else {}
        line = [getter(record) if getter else values.get(column, "") for getter, column in zip(getters, columns,
                                                                                                 strict=True)]
        if faults:
            ids = (record[0], record[9] or "")
            if selection.withhold.intersection(ids):
                continue
            if selection.duplicate.intersection(ids):
                yield line
        yield line


def _own_columns(zone: ZoneInfo | None) -> dict[str, Any]:
    """Formatters of the columns that come from the balance transaction's own row (see `_query`)."""
    return {
        "balance_transaction_id": lambda r: r[0], "connected_account": lambda r: r[1],
        "created_utc": lambda r: _time(r[2], None), "created": lambda r: _time(r[2], zone),
        "available_on_utc": lambda r: _time(r[3], None), "available_on": lambda r: _time(r[3], zone),
        "currency": lambda r: r[4], "gross": lambda r: major(r[5], r[4]), "fee": lambda r: major(r[6], r[4]),
        "net": lambda r: major(r[7], r[4]), "reporting_category": lambda r: r[8], "source_id": lambda r: r[9] or "",
        "description": lambda r: r[10] or "", "automatic_payout_id": lambda r: r[11] or "",
    }


def _query(selection: Selection, needs_source: bool, needs_payout: bool) -> tuple[str, list[Any]]:
    kind = selection.report_type.rows
    select = ("b.id, b.account, b.created, json_extract(b.data, '$.available_on'), json_extract(b.data, '$.currency'),"
              " json_extract(b.data, '$.amount'), json_extract(b.data, '$.fee'), json_extract(b.data, '$.net'),"
              " json_extract(b.data, '$.reporting_category'), json_extract(b.data, '$.source'),"
              " json_extract(b.data, '$.description'), json_extract(b.private, '$.automatic_payout')")
    joins = ""
    if needs_payout:
        select += ", po.data"
        joins += " LEFT JOIN objects po ON po.id = json_extract(b.private, '$.automatic_payout')"
    else:
        select += ", NULL"
    if needs_source:
        select += ", s.type, s.data, ch.data"
        joins += (" LEFT JOIN objects s ON s.id = json_extract(b.data, '$.source')"
                  " LEFT JOIN objects ch ON s.type = 'refund' AND ch.id = json_extract(s.data, '$.charge')")
    where = ["b.type = 'balance_transaction'"]
    args: list[Any] = []
    if kind == "connected":
        where.append("b.account = ?" if selection.connected_account else "b.account != ?")
        args.append(selection.connected_account or PLATFORM_ACCOUNT)
    else:
        where.append("b.account = ?")
        args.append(selection.account)
    if kind == "payout":
        # The transactions settled by automatic payouts that arrive in the interval (not the payouts themselves).
        where += ["json_extract(b.private, '$.automatic_payout') IS NOT NULL",
                  "json_extract(b.data, '$.source') IS NOT json_extract(b.private, '$.automatic_payout')",
                  "json_extract(po.data, '$.arrival_date') >= ?", "json_extract(po.data, '$.arrival_date') < ?"]
        order = "json_extract(po.data, '$.arrival_date'), po.seq, b.seq"
    else:
        where += ["b.created >= ?", "b.created < ?"]
        order = "b.seq"
    args += [selection.interval_start, selection.interval_end]
    if selection.payout:
        where.append("json_extract(b.private, '$.automatic_payout') = ?")
        args.append(selection.payout)
    if selection.currency:
        where.append("json_extract(b.data, '$.currency') = ?")
        args.append(selection.currency)
    if selection.reporting_category:
        where.append("json_extract(b.data, '$.reporting_category') = ?")
        args.append(selection.reporting_category)
    sql = f"SELECT {select} FROM objects b{joins} WHERE {' AND '.join(where)} ORDER BY {order}"  # noqa: S608
    return sql, args


def _values(record: tuple, needs_source: bool, zone: ZoneInfo | None, accounts: _AccountNames,
            wanted: frozenset[str]) -> dict[str, str]:
    (txn_id, account, created, available_on, currency, amount, fee, net, category, source, description,
     payout_id, payout_data) = record[:13]
    values = {"balance_transaction_id": txn_id, "currency": currency, "reporting_category": category,
              "source_id": source or "", "description": description or "", "automatic_payout_id": payout_id or "",
              "connected_account": account}
    # Only what is asked for is formatted: a report formats millions of these.
    for column, amount_of in (("gross", amount), ("fee", fee), ("net", net)):
        if column in wanted or needs_source:
            values[column] = major(amount_of, currency)
    for column, moment, local in (("created_utc", created, None), ("created", created, zone),
                                  ("available_on_utc", available_on, None), ("available_on", available_on, zone)):
        if column in wanted:
            values[column] = _time(moment, local)
    if payout_data:
        payout = json.loads(payout_data)
        effective = payout.get("arrival_date")
        values.update(automatic_payout_effective_at_utc=_time(effective, None),
                      automatic_payout_effective_at=_time(effective, zone), trace_id=(payout.get("trace_id") or {})
                      .get("value") or "", trace_id_status=(payout.get("trace_id") or {}).get("status") or "")
    if needs_source:
        values.update(_source_values(record[13], record[14], record[15], currency, values["gross"], zone, accounts))
        if account != PLATFORM_ACCOUNT:
            name, country = accounts.get(account)
            values.setdefault("connected_account_name", name)
            values.setdefault("connected_account_country", country)
    return values


def _source_values(kind: str | None, data: str | None, charge_data: str | None, currency: str, gross: str,
                   zone: ZoneInfo | None, accounts: _AccountNames) -> dict[str, str]:
    if not data:
        return {}
    source = json.loads(data)
    values: dict[str, str] = {}
    for prefix, object_type in _METADATA_OF.items():
        if kind == object_type:
            values.update({f"{prefix}[{k}]": v for k, v in (source.get("metadata") or {}).items()})
    charge = source if kind == "charge" else json.loads(charge_data) if charge_data else None
    if charge is not None:
        details = charge.get("payment_method_details") or {}
        card = details.get("card") or {}
        billing = charge.get("billing_details") or {}
        values.update({
            "charge_id": charge["id"], "payment_intent_id": charge.get("payment_intent") or "",
            "charge_created_utc": _time(charge["created"], None), "charge_created": _time(charge["created"], zone),
            "customer_email": billing.get("email") or "", "customer_name": billing.get("name") or "",
            "payment_method_type": details.get("type", ""), "is_link": "false", "card_brand": card.get("brand", ""),
            "card_funding": card.get("funding", ""), "card_country": card.get("country", ""),
            "customer_facing_amount": gross, "customer_facing_currency": currency,
        })
        if kind == "refund":
            values.update({f"payment_metadata[{k}]": v for k, v in (charge.get("metadata") or {}).items()})
    if kind == "transfer":
        name, country = accounts.get(source["destination"])
        values.update(connected_account_id=source["destination"], connected_account_name=name,
                      connected_account_country=country,
                      destination_payment_id=source.get("destination_payment") or "")
    return values


class _AccountNames:
    """Connected accounts' names and countries, looked up once each per report."""

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        self._cache: dict[str, tuple[str, str]] = {}

    def get(self, account_id: str) -> tuple[str, str]:
        if account_id not in self._cache:
            account: dict = self._sb.store.get(account_id, PLATFORM_ACCOUNT, "account") or {}
            name = (account.get("business_profile") or {}).get("name") or ""
            self._cache[account_id] = (name, account.get("country") or "")
        return self._cache[account_id]


def _summary(sb: Sandbox, selection: Selection) -> Iterator[list[str]]:
    """`balance.summary.1`: per currency, the balance at the start, the activity and the payouts in the
    interval, and the balance at the end (net amounts, major units)."""
    sql = ("SELECT json_extract(data, '$.currency') AS cur,"
           " TOTAL(CASE WHEN created < ? THEN json_extract(data, '$.net') END),"
           " TOTAL(CASE WHEN created >= ? AND json_extract(data, '$.reporting_category') NOT IN ('payout',"
           " 'payout_reversal') THEN json_extract(data, '$.net') END),"
           " TOTAL(CASE WHEN created >= ? AND json_extract(data, '$.reporting_category') IN ('payout',"
           " 'payout_reversal') THEN json_extract(data, '$.net') END)"
           " FROM objects WHERE type = 'balance_transaction' AND account = ? AND created < ?")
    args: list[Any] = [selection.interval_start] * 3 + [selection.account, selection.interval_end]
    if selection.currency:
        sql += " AND json_extract(data, '$.currency') = ?"
        args.append(selection.currency)
    for currency, start, activity, paid in sb.store.conn().execute(sql + " GROUP BY cur ORDER BY cur", args):
        start, activity, paid = int(start), int(activity), int(paid)
        lines = {"starting_balance": ("Starting balance", start), "activity": ("Activity", activity),
                 "payouts": ("Payouts", paid), "ending_balance": ("Ending balance", start + activity + paid)}
        for category, (description, amount) in lines.items():
            values = {"category": category, "description": description, "net_amount": major(amount, currency),
                      "currency": currency}
            yield [values.get(column, "") for column in selection.columns]


def major(amount: int | None, currency: str) -> str:
    """Minor units as major-unit text by the currency's exponent (`-705, "eur"` → `"-7.05"`, JPY has none);
    the same result as money.major, without Decimal, because a report formats millions of them."""
    if amount is None:
        return ""
    places = _exponent(currency)
    if places == 0:
        return str(amount)
    whole, part = divmod(abs(amount), 10 ** places)
    return f"{'-' if amount < 0 else ''}{whole}.{part:0{places}d}"


_exponent = functools.lru_cache(maxsize=None)(exponent)


@functools.lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()


def _time(timestamp: int | None, zone: ZoneInfo | None) -> str:
    """`YYYY-MM-DD HH:MM:SS`; in UTC by arithmetic (strftime is the slowest part of a large report)."""
    if timestamp is None:
        return ""
    if zone is not None:
        return datetime.datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M:%S")
    day, second = divmod(timestamp, 86_400)
    hour, rest = divmod(second, 3600)
    return f"{_day(day)} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}"


def is_metadata_column(column: str) -> bool:
    return any(column.startswith(prefix + "[") and column.endswith("]") for prefix in METADATA_PREFIXES)
