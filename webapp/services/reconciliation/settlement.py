"""Importing a settlement file: Stripe's itemized balance-change report (the platform's, or the connected accounts'),
as CSV with Stripe's column names and amounts in major units.

The file is read twice, streamed both times (never held in memory): once for its SHA-256 — the same content is
the same import, so importing a file twice adds nothing — and once to parse it into `recon_rows` in chunks (COPY on
PostgreSQL). Amounts are parsed exactly by the currency's exponent; a malformed row fails the whole import with
its line number, so a half-read file is never reconciled.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, cast

import psycopg
from sqlalchemy import select

from webapp.domain.errors import DomainError
from webapp.domain.money import CURRENCY_EXPONENTS
from webapp.domain.reconciliation import FAMILY, Movement, RunSource, movement_of, parse_amount
from webapp.extensions import db
from webapp.models import ReconImport, ReconRow
from webapp.services import bulk

CHUNK = 5_000
REQUIRED = ("balance_transaction_id", "currency", "gross", "fee", "reporting_category", "source_id")
# Our ids, which we put in the PSP objects' metadata: found through the report's metadata columns.
REF_COLUMNS = {Movement.CHARGE: "payment_metadata[payment_event_id]", Movement.REFUND: "refund_metadata[refund_id]",
               Movement.REFUND_FAILURE: "refund_metadata[refund_id]",
               Movement.TRANSFER: "transfer_metadata[payout_id]"}
# The columns a report run asks for (Stripe's names), in this order.
PLATFORM_COLUMNS = ("balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
                    "reporting_category", "source_id", "description", "payment_intent_id",
                    "payment_metadata[payment_event_id]", "refund_metadata[refund_id]", "transfer_metadata[payout_id]")
CONNECTED_COLUMNS = ("connected_account", "balance_transaction_id", "created_utc", "available_on_utc", "currency",
                     "gross", "fee", "net", "reporting_category", "source_id", "description")
_ROW_COLUMNS = ("import_id", "line", "balance_transaction_id", "account", "category", "movement", "family",
                "source_id", "ref", "payment_intent_id", "currency", "gross", "fee", "created")


class BadSettlementFile(DomainError):
    code = "bad_settlement_file"
    http_status = 400


@dataclass(frozen=True)
class Imported:
    id: str
    rows: int
    report: str
    new: bool  # False: this content was imported before


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_file(path: Path, *, source: RunSource, name: str,
                progress: Callable[[int], None] | None = None) -> Imported:
    """Import a settlement file once (caller commits). Raises BadSettlementFile naming the first bad line."""
    digest = content_hash(path)
    existing = db.session.scalar(select(ReconImport).where(ReconImport.content_hash == digest))
    if existing is not None:
        return Imported(existing.id, existing.rows, existing.report, new=False)
    record = ReconImport(content_hash=digest, source=source.value, name=name[:300], report="platform", rows=0)
    db.session.add(record)
    db.session.flush()
    count, first, last = 0, None, None
    with path.open(newline="", encoding="utf-8-sig") as handle, _sink() as store:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise BadSettlementFile(f"{name}: the file is empty.")
        parse = _row_parser(header, name)
        record.report = "connected" if "connected_account" in header else "platform"
        chunk: list[tuple] = []
        for line, values in enumerate(reader, start=2):
            if values:
                chunk.append(parse(record.id, line, values))
            if len(chunk) >= CHUNK:
                count, first, last = _spans(chunk, count, first, last)
                store(chunk)
                chunk = []
                if progress:
                    progress(count)
        count, first, last = _spans(chunk, count, first, last)
        store(chunk)
    record.rows, record.first_created, record.last_created = count, first, last
    if progress:
        progress(count)
    return Imported(record.id, count, record.report, new=True)


def _spans(chunk: list[tuple], count: int, first: int | None, last: int | None) -> tuple[int, int | None, int | None]:
    """The running count and PSP time span of the rows, with a chunk's (`created` is a row's last field)."""
    if not chunk:
        return count, first, last
    low, high = min(row[-1] for row in chunk), max(row[-1] for row in chunk)
    return (count + len(chunk), low if first is None else min(first, low), high if last is None else max(last, high))


def _row_parser(header: list[str], name: str) -> Callable[[str, int, list[str]], tuple]:
    index = {column: i for i, column in enumerate(header)}
    missing = [c for c in REQUIRED if c not in index]
    time_column = "created_utc" if "created_utc" in index else "created" if "created" in index else None
    if missing or time_column is None:
        raise BadSettlementFile(f"{name}: missing column(s) {', '.join(missing or ['created_utc'])}; the file must be "
                                "an itemized balance change report (balance_change_from_activity.itemized.3 or "
                                "connected_account_balance_change_from_activity.itemized.3).")
    at = {c: index[c] for c in (*REQUIRED, time_column)}
    bt_at, currency_at, category_at, source_at = (at["balance_transaction_id"], at["currency"],
                                                  at["reporting_category"], at["source_id"])
    gross_at, fee_at, created_at = at["gross"], at["fee"], at[time_column]
    account_at = index.get("connected_account")
    intent_at = index.get("payment_intent_id")
    ref_at = {movement: index[column] for movement, column in REF_COLUMNS.items() if column in index}
    seconds = _Timestamps()
    width = len(header)
    kinds: dict[tuple[str, bool], tuple[str, str, int | None]] = {}  # (category, connected) → movement, family, ref
    amounts = _Amounts()

    def parse(import_id: str, line: int, values: list[str]) -> tuple:
        if len(values) != width:
            raise BadSettlementFile(f"{name}, line {line}: {len(values)} fields where the header has {width}.")
        try:
            currency = values[currency_at].upper()
            account = (values[account_at] or None) if account_at is not None else None
            category = values[category_at]
            kind = kinds.get((category, account is not None))
            if kind is None:
                movement = movement_of(category, account is not None)
                kind = kinds[(category, account is not None)] = (movement.value, FAMILY[movement],
                                                                  ref_at.get(movement))
            ref_index = kind[2]
            return (import_id, line, values[bt_at], account, category, kind[0], kind[1], values[source_at],
                    (values[ref_index] or None) if ref_index is not None else None,
                    (values[intent_at] or None) if intent_at is not None else None, currency,
                    amounts(values[gross_at], currency), amounts(values[fee_at], currency),
                    seconds(values[created_at]))
        except (DomainError, ValueError) as exc:
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            raise BadSettlementFile(f"{name}, line {line}: {message}") from exc

    return parse


_CACHED = 200_000  # distinct texts remembered per parser (amounts repeat: prices, fees; times: 86,400 a day)


class _Amounts:
    """`parse_amount`, remembering each distinct text per currency (a million rows hold far fewer distinct amounts),
    with a fast path for the plain amounts a report holds ("-12.30"). Anything the fast path does not take plainly
    (spaces, an unknown currency, too many decimals…) goes to `parse_amount`, which parses it exactly or raises the
    error naming it."""

    def __init__(self) -> None:
        self._places: dict[str, tuple[int, int, dict[str, int]]] = {}

    def __call__(self, raw: str, currency: str) -> int:
        known = self._places.get(currency)
        if known is None:
            if currency not in CURRENCY_EXPONENTS:
                return parse_amount(raw, currency)
            places = CURRENCY_EXPONENTS[currency]
            known = self._places[currency] = (places, 10**places, {})
        places, factor, seen = known
        minor = seen.get(raw)
        if minor is not None:
            return minor
        negative = raw[:1] == "-"
        whole, dot, fraction = (raw[1:] if negative else raw).partition(".")
        if (whole.isascii() and whole.isdigit() and len(whole) <= 16 and (whole[0] != "0" or whole == "0")
                and (not dot or (0 < len(fraction) <= places and fraction.isascii() and fraction.isdigit()))):
            minor = int(whole) * factor + (int(fraction.ljust(places, "0")) if dot else 0)
            minor = -minor if negative else minor
        else:
            minor = parse_amount(raw, currency)
        if len(seen) < _CACHED:
            seen[raw] = minor
        return minor


class _Timestamps:
    """"2026-11-30 23:59:59" (UTC) as Unix seconds; the day's midnight is computed once per date, and each distinct
    time once, because a report holds millions of rows over few days."""

    def __init__(self) -> None:
        self._days: dict[str, int] = {}
        self._seen: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        found = self._seen.get(text)
        if found is not None:
            return found
        day = text[:10]
        start = self._days.get(day)
        if start is None:
            start = int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
            self._days[day] = start
        if len(text) != 19 or text[10] != " ":
            raise ValueError(f"time {text!r} is not YYYY-MM-DD HH:MM:SS")
        found = start + int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19])
        if len(self._seen) < _CACHED:
            self._seen[text] = found
        return found


@contextmanager
def _sink() -> Iterator[Callable[[list[tuple]], None]]:
    """Where parsed rows go. On PostgreSQL one COPY for the whole file, so the server writes the rows while the file
    is still being parsed (a COPY per chunk would wait for the server at the end of each); elsewhere a bulk INSERT
    per chunk."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":

        def insert(rows: list[tuple]) -> None:
            if rows:
                bulk.insert_rows(ReconRow, [dict(zip(_ROW_COLUMNS, row, strict=True)) for row in rows])

        yield insert
        return
    driver = cast(psycopg.Connection, connection.connection.dbapi_connection)
    with driver.cursor() as cursor, cursor.copy(f"COPY recon_rows ({', '.join(_ROW_COLUMNS)}) FROM STDIN") as copy:
        write = copy.write_row

        def store(rows: list[tuple]) -> None:
            for row in rows:
                write(row)

        yield store


def rows_of(text: IO[str]) -> Iterator[dict[str, str]]:
    """A report's rows as dicts (for tests and tools that edit a file)."""
    yield from csv.DictReader(text)
