"""Posting journal entries, and keeping every cached balance equal to the sum of its account's postings.

`post()` / `post_many()` insert entries and their postings in the caller's transaction; an entry whose key
was posted before is skipped (INSERT … ON CONFLICT DO NOTHING on the unique key), so each business event
posts at most once however often it is reported. The ledger_accounts table is not touched there: the
entries posted by a transaction are remembered on the session, and just before the outermost COMMIT their
postings are summed per account, missing accounts are created and balances updated, in account-id order
(the postings' foreign key to their account is checked at commit: DEFERRABLE INITIALLY DEFERRED). Hence

- a transaction takes its account row locks last and in one global order (after the checkout locks that
  every writer takes first, sorted), so concurrent batches cannot deadlock on them, and hot platform
  accounts are locked only for the instant before commit. Creating an account that a concurrent
  transaction is also creating waits for that transaction: that wait happens in the same sorted pass;
- an entry posted inside a savepoint that was rolled back is gone from the table, so it is not counted;
- a batch touching the same account a thousand times updates its row once.

Code that must read a balance and act on it (a refund reserving from a wallet) calls `lock()`, which takes
the row locks of every account it names, in id order, and returns balances including what this
transaction has posted but not applied yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import psycopg
from sqlalchemy import BigInteger, Table, Text, bindparam, event, func, literal, select, update
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, scoped_session

from webapp.dbtypes import utcnow
from webapp.domain.ledger import Account, JournalEntry
from webapp.extensions import db
from webapp.models import LedgerAccount, LedgerPosting
from webapp.models import LedgerEntry as EntryRow
from webapp.services import bulk

_POSTED = "ledger.posted_entry_ids"
_ACCOUNTS = "ledger.accounts"
_CHUNK = 500

AnySession = Session | scoped_session


@dataclass(frozen=True)
class Links:
    """What an entry is about, for the pages that show it."""

    payment_event_id: str | None = None
    payment_order_id: str | None = None
    refund_id: str | None = None
    payout_id: str | None = None


def _insert(session: AnySession, table):
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def _create_accounts(session: AnySession, accounts: Iterable[Account]) -> None:
    """Create the accounts that do not exist yet, in id order."""
    by_code = {a.code: a for a in accounts}
    if not by_code:
        return
    existing = set(session.scalars(select(LedgerAccount.id).where(LedgerAccount.id.in_(list(by_code)))))
    rows = [{"id": code, "kind": a.kind.value, "currency": a.currency, "seller_account_id": a.seller_account_id,
             "sign": a.sign, "balance": 0, "created_at": utcnow()}
            for code, a in sorted(by_code.items()) if code not in existing]
    if rows:  # executemany of one cached statement: no per-size compilation, rows written in id order
        table = cast(Table, LedgerAccount.__table__)
        session.execute(_insert(session, table).on_conflict_do_nothing(index_elements=["id"]), rows)


def post(journal_entry: JournalEntry, links: Links = Links()) -> int | None:
    """Post one entry in the current transaction; returns its id, or None when its key was posted before."""
    return post_many([(journal_entry, links)]).get(journal_entry.key)


def post_many(items: Sequence[tuple[JournalEntry, Links]]) -> dict[str, int]:
    """Post entries in the current transaction (two statements per chunk of 500, whatever the number of
    entries); returns {key: id} of those that were new. Entries without postings are skipped."""
    items = [(e, links) for e, links in items if e.postings]
    posted: dict[str, int] = {}
    for start in range(0, len(items), _CHUNK):
        posted.update(_post_chunk(items[start:start + _CHUNK]))
    if posted:
        db.session.info.setdefault(_POSTED, set()).update(posted.values())
        known = db.session.info.setdefault(_ACCOUNTS, {})
        for e, _ in items:
            for p in e.postings:
                known[p.account.code] = p.account
    return posted


def _post_chunk(items: Sequence[tuple[JournalEntry, Links]]) -> dict[str, int]:
    now = utcnow()
    by_key = {e.key: e for e, _ in items}
    rows = [{"key": e.key, "kind": e.kind.value, "currency": e.currency, "memo": e.memo[:300],
             "payment_event_id": links.payment_event_id, "payment_order_id": links.payment_order_id,
             "refund_id": links.refund_id, "payout_id": links.payout_id, "created_at": now} for e, links in items]
    # Conflicting keys return nothing; the rows that do come back are matched by key, in any order.
    posted = {key: entry_id for entry_id, key in _insert_entries(rows)}
    postings = [(entry_id, p.account.code, p.amount, p.account.currency, now)
                for key, entry_id in posted.items() for p in by_key[key].postings]
    if postings:
        _insert_postings(postings)
    return posted


_POSTING_COLUMNS = ("entry_id", "account_id", "amount", "currency", "created_at")
_COPY_FROM = 100


def _insert_entries(rows: list[dict]) -> list[tuple[int, str]]:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id, key: one statement whatever the batch size."""
    return [(r[0], r[1]) for r in bulk.insert_rows(EntryRow, rows, skip_conflicts_on="key", returning=("id", "key"))]


def _insert_postings(rows: list[tuple]) -> None:
    """Postings are the bulk of what a batch writes: PostgreSQL takes a batch's through COPY, in this
    transaction; a handful (one payment result) go as one INSERT, which costs fewer round trips."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and len(rows) >= _COPY_FROM:
        driver = cast(psycopg.Connection, connection.connection.dbapi_connection)
        with driver.cursor() as cursor, cursor.copy(
                f"COPY postings ({', '.join(_POSTING_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    bulk.insert_rows(LedgerPosting, [dict(zip(_POSTING_COLUMNS, row, strict=True)) for row in rows])


def _posted_sums(session: AnySession, entry_ids: Iterable[int], accounts: Sequence[str] | None = None
                 ) -> dict[str, int]:
    """Sum of postings per account over `entry_ids` (those still present: not rolled back), zeros included."""
    ids = sorted(set(entry_ids))
    totals: dict[str, int] = defaultdict(int)
    for start in range(0, len(ids), _CHUNK):
        query = (select(LedgerPosting.account_id, func.sum(LedgerPosting.amount))
                 .where(LedgerPosting.entry_id.in_(ids[start:start + _CHUNK])).group_by(LedgerPosting.account_id))
        if accounts is not None:
            query = query.where(LedgerPosting.account_id.in_(accounts))
        for account_id, total in session.execute(query):
            totals[account_id] += int(total)
    return dict(totals)


def lock(accounts: Iterable[Account]) -> dict[str, int]:
    """Lock these accounts' rows (in id order) for this transaction and return their normal-side balances,
    including entries this transaction posted but has not applied yet."""
    wanted = {a.code: a for a in accounts}
    _create_accounts(db.session, wanted.values())
    rows = db.session.execute(select(LedgerAccount.id, LedgerAccount.balance).where(
        LedgerAccount.id.in_(sorted(wanted))).order_by(LedgerAccount.id).with_for_update()).all()
    balances = {account_id: int(balance) for account_id, balance in rows}
    unapplied = _posted_sums(db.session, db.session.info.get(_POSTED, ()), sorted(wanted))
    for code, total in unapplied.items():
        balances[code] += wanted[code].sign * total
    return balances


@event.listens_for(Session, "before_commit")
def _apply_balances(session: Session) -> None:
    """Fold this transaction's postings into the cached balances: create missing accounts, then one UPDATE per
    account, in account-id order."""
    if session.in_nested_transaction():
        return  # a savepoint being released: the outer transaction applies everything at its commit
    entry_ids = session.info.pop(_POSTED, None)
    known: dict[str, Account] = session.info.pop(_ACCOUNTS, {})
    if not entry_ids:
        return
    sums = _posted_sums(session, entry_ids)
    _create_accounts(session, (known[code] for code in sums))
    deltas = sorted((code, total) for code, total in sums.items() if total)
    if not deltas:
        return
    table = cast(Table, LedgerAccount.__table__)
    if session.get_bind().dialect.name == "postgresql":
        # Lock the rows in id order first, then update them all in one statement (a join's order is the
        # planner's, so it must not be the one taking the locks).
        codes = [code for code, _ in deltas]
        session.execute(select(table.c.id).where(table.c.id.in_(codes)).order_by(table.c.id).with_for_update())
        changes = select(func.unnest(cast_(literal(codes), ARRAY(Text))).label("id"),
                         func.unnest(cast_(literal([total for _, total in deltas]), ARRAY(BigInteger)))
                         .label("delta")).subquery()
        session.execute(update(table).where(table.c.id == changes.c.id)
                        .values(balance=table.c.balance + table.c.sign * changes.c.delta))
        return
    session.execute(update(table).where(table.c.id == bindparam("account"))
                    .values(balance=table.c.balance + table.c.sign * bindparam("delta", type_=BigInteger)),
                    [{"account": code, "delta": total} for code, total in deltas])


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_POSTED, None)
        session.info.pop(_ACCOUNTS, None)
