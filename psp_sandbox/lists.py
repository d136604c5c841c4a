"""Stripe list envelopes and cursor pagination (`limit`, `starting_after`, `ending_before`), newest first."""

from __future__ import annotations

from typing import Any

from psp_sandbox import params as p
from psp_sandbox.errors import invalid, no_such
from psp_sandbox.store import Store

_RANGE_SQL = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class Query:
    """A WHERE clause over stored objects of one type and account, built from list filters."""

    def __init__(self, type_: str, account: str) -> None:
        self.clauses = ["type = ?", "account = ?"]
        self.args: list[Any] = [type_, account]

    def field(self, path: str, value: Any) -> Query:
        if value is not None:
            self.clauses.append(f"json_extract(data, '$.{path}') = ?")
            self.args.append(value)
        return self

    def raw(self, clause: str, *args: Any) -> Query:
        self.clauses.append(clause)
        self.args.extend(args)
        return self

    def time_range(self, column: str, params: dict, name: str) -> Query:
        value = params.get(name)
        if value is None:
            return self
        if not isinstance(value, dict):
            self.clauses.append(f"{column} = ?")
            self.args.append(p.integer(params, name))
            return self
        bounds = p.nested(params, name)
        for op in bounds:
            if op not in _RANGE_SQL:
                raise invalid(f"Received unknown parameter: {p.full_name(bounds, op)}", p.full_name(bounds, op),
                              "parameter_unknown")
            self.clauses.append(f"{column} {_RANGE_SQL[op]} ?")
            self.args.append(p.integer(bounds, op))
        return self

    @property
    def where(self) -> str:
        return " AND ".join(self.clauses)


def limit_of(params: dict) -> int:
    limit = p.integer(params, "limit")
    if limit is None:
        return 10
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    return limit


def page(store: Store, query: Query, params: dict, url: str) -> dict:
    limit = limit_of(params)
    after, before = p.string(params, "starting_after"), p.string(params, "ending_before")
    if after and before:
        raise invalid("You may only specify one of these parameters: ending_before, starting_after.")
    order = "seq DESC"
    for name, cursor, sql in (("starting_after", after, "seq < ?"), ("ending_before", before, "seq > ?")):
        if cursor:
            found = store.get(cursor)
            if found is None:
                raise no_such("object", cursor, name)
            query.raw(sql, found.seq)
    if before:
        order = "seq ASC"
    rows = store.select(query.where, query.args, order, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if before:
        rows.reverse()
    return envelope(list(rows), has_more, url)


def page_of(items: list[dict], params: dict, url: str) -> dict:
    """Paginate an in-memory list kept in creation order (e.g. a session's line items)."""
    limit = limit_of(params)
    after, before = p.string(params, "starting_after"), p.string(params, "ending_before")
    ids = [item["id"] for item in items]
    start, end = 0, len(items)
    if after:
        start = ids.index(after) + 1 if after in ids else _missing(after, "starting_after")
    if before:
        end = ids.index(before) if before in ids else _missing(before, "ending_before")
        start = max(0, end - limit)
    chosen = items[start:end][:limit]
    return envelope(chosen, start + len(chosen) < end if not before else start > 0, url)


def _missing(object_id: str, param: str) -> int:
    raise no_such("object", object_id, param)


def envelope(data: list, has_more: bool, url: str) -> dict:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
