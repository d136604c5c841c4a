"""Inserting many rows in one statement whose text does not depend on how many rows there are.

On PostgreSQL the rows travel as one array per column: `INSERT INTO t (a, b) SELECT * FROM unnest(:a, :b)`.
The statement is the same for 3 rows or 3,000, so SQLAlchemy compiles it once, psycopg converts it once and
PostgreSQL plans it once, where a multi-row VALUES list is a new statement for every batch size and an
executemany pays a round trip per row. Elsewhere (SQLite) it is an executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.extensions import db


def insert_rows(model: Any, rows: Sequence[dict], *, skip_conflicts_on: str | None = None,
                returning: Sequence[str] = ()) -> list[Row]:
    """Insert `rows` (dicts with the same keys) into `model`'s table in the session's transaction.

    `skip_conflicts_on`: a unique column; rows that conflict on it are left out (ON CONFLICT DO NOTHING) and
    return nothing. `returning`: columns to return for the inserted rows, in no particular order."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    statement = (pg_insert if postgresql else sqlite_insert)(table)
    if skip_conflicts_on:
        statement = statement.on_conflict_do_nothing(index_elements=[skip_conflicts_on])
    names = list(rows[0])
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))  # type: ignore[assignment]
    if not postgresql:
        result = db.session.execute(statement, list(rows))
        return list(result) if returning else []
    arrays = select(*(func.unnest(sql_cast(literal([row[name] for row in rows]), ARRAY(table.c[name].type)))
                      .label(name) for name in names))
    result = db.session.execute(statement.from_select(names, arrays))
    return list(result) if returning else []
