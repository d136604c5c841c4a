"""Set-based matching of a day's report rows against our staged movements, in the database.

A few queries do the work whatever the number of rows: the balance transactions listed twice (GROUP BY); one hash
join of the report's rows of the day with our movements on the PSP id, both sides kept (FULL JOIN), keeping only
the pairs where something differs — the rows it leaves without a match (a few) are then looked up by our id from the
metadata and by another movement of the same PSP object; and, only if that join left some of our movements of the
day unmatched, which of them no row names at all. Only those few candidates come back to Python, where
`webapp.domain.reconciliation.classify` names each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text

from webapp.domain.money import Money
from webapp.domain.reconciliation import (
    DAY_SECONDS,
    MismatchClass,
    Movement,
    OurSide,
    Outcome,
    PspSide,
    classify,
    classify_unreported,
    day_bounds,
    mismatch_key,
)
from webapp.extensions import db

PLATFORM_MOVEMENTS = ("charge", "refund", "refund_failure", "transfer", "transfer_reversal")
CONNECTED_MOVEMENTS = ("payout", "payout_failure")


@dataclass
class Finding:
    """One difference found by a run, before it is stored."""

    class_name: MismatchClass
    movement: Movement
    key: str
    balance_transaction_id: str | None = None
    source_id: str | None = None
    ref: str | None = None
    account: str | None = None
    currency: str | None = None
    amount_psp: int | None = None
    amount_ours: int | None = None
    fee_psp: int | None = None
    fee_ours: int | None = None
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    payment_intent_id: str | None = None


@dataclass
class Matched:
    rows: int = 0       # report rows of the day
    skipped: int = 0    # rows matched on another row (a connected account's side of a platform transfer)
    matched: int = 0
    findings: list[Finding] = field(default_factory=list)


_OURS = ("id", "movement", "source_id", "ref", "account", "currency", "amount", "fee", "outcome", "at")
_ROW = ("id", "balance_transaction_id", "movement", "family", "source_id", "ref", "account", "currency", "gross", "fee",
        "created", "payment_intent_id", "category")
# The run's report rows of the day (a connected account's side of a platform movement is matched on the platform's).
_DAY = "{a}import_id IN :imports AND {a}created >= :start AND {a}created < :end AND {a}movement <> 'mirror'"
# A balance transaction listed more than once: found by a GROUP BY (the few ids come back); then only their rows are
# numbered, and the second and later are duplicates.
_REPEATED = """
SELECT balance_transaction_id FROM recon_rows WHERE {day} GROUP BY balance_transaction_id HAVING COUNT(*) > 1
"""
_REPEATS = """
SELECT * FROM (
  SELECT {row},
         ROW_NUMBER() OVER (PARTITION BY r.balance_transaction_id ORDER BY r.import_id, r.line) AS repeat
  FROM recon_rows r WHERE {r_day} AND r.balance_transaction_id IN :repeated) numbered
WHERE repeat > 1
"""
# One hash join of the day's rows with our movements on the PSP id, both sides kept (FULL JOIN) and only the columns
# compared carried, keeping the pairs that differ: a row we have nothing (or something different) for under its id,
# and a movement we booked that day that no row names. Their details are then read by primary key, and only the rows
# without a match by id (a few) are looked up by our id and by another movement of the same PSP object.
_PAIRS = """
SELECT r.id AS r_id, k.id AS k_id
FROM (SELECT id, movement, source_id, currency, gross, fee FROM recon_rows WHERE {day}) r
FULL JOIN (SELECT id, movement, source_id, currency, amount, fee, outcome, at FROM recon_ours WHERE run_id = :run) k
       ON k.movement = r.movement AND k.source_id = r.source_id
WHERE CASE WHEN r.id IS NULL THEN k.outcome = 'booked' AND k.at >= :start AND k.at < :end AND k.movement IN :movements
           ELSE k.id IS NULL OR k.outcome <> 'booked' OR k.currency <> r.currency OR k.amount <> r.gross
                OR k.fee <> r.fee OR k.at < :start OR k.at >= :end END
"""
_KEYED = """
SELECT {r_row}, {k} FROM recon_rows r
JOIN recon_ours k ON k.id IN :ours AND k.movement = r.movement AND k.source_id = r.source_id
WHERE r.id IN :rows
"""
_UNKEYED = """
SELECT {r_row}, {f}, {g} FROM recon_rows r
LEFT JOIN recon_ours f ON f.run_id = :run AND f.movement = r.movement AND f.ref = r.ref
LEFT JOIN recon_ours g ON f.id IS NULL AND g.run_id = :run AND g.family = r.family AND g.source_id = r.source_id
                       AND g.movement <> r.movement
WHERE r.id IN :rows
"""
_CHUNK = 1_000
_COUNTS = """
SELECT SUM(CASE WHEN movement = 'mirror' THEN 0 ELSE 1 END), SUM(CASE WHEN movement = 'mirror' THEN 1 ELSE 0 END)
FROM recon_rows WHERE import_id IN :imports AND created >= :start AND created < :end
"""
# Our movements of the day that no row of the day names, by PSP id or by our id; with whether a neighbouring day's
# report (of any import) lists them. Run only when the join above left some of our movements unmatched.
_UNREPORTED = """
SELECT o.id, o.movement, o.source_id, o.ref, o.account, o.currency, o.amount, o.fee, o.outcome, o.at,
       CASE WHEN n.source_id IS NULL THEN 0 ELSE 1 END AS neighbour
FROM recon_ours o
LEFT JOIN (SELECT DISTINCT movement, source_id FROM recon_rows
           WHERE import_id IN (SELECT id FROM recon_imports WHERE first_created < :end + 86400
                                                            AND last_created >= :start - 86400)
             AND ((created >= :start - 86400 AND created < :start) OR (created >= :end AND created < :end + 86400))
          ) n ON n.movement = o.movement AND n.source_id = o.source_id
WHERE o.run_id = :run AND o.outcome = 'booked' AND o.at >= :start AND o.at < :end AND o.movement IN :movements
  AND NOT EXISTS (SELECT 1 FROM recon_rows r WHERE {r_day} AND r.movement = o.movement
                  AND r.source_id = o.source_id)
  AND NOT EXISTS (SELECT 1 FROM recon_rows r WHERE {r_day} AND r.movement = o.movement
                  AND r.ref = o.ref)
"""


def _columns(alias: str) -> str:
    return ", ".join(f"{alias}.{c} AS {alias}_{c}" for c in _OURS)


def _ours(row: Any, alias: str, found_by: str) -> OurSide | None:
    if getattr(row, f"{alias}_id") is None:
        return None
    value = lambda name: getattr(row, f"{alias}_{name}")  # noqa: E731
    return OurSide(Movement(value("movement")), value("source_id"), value("ref"), value("currency"),
                   int(value("amount")), int(value("fee")), Outcome(value("outcome")), int(value("at")), found_by)


def _money(minor: int | None, currency: str | None) -> str:
    if minor is None or currency is None:
        return "—"
    try:
        return Money(minor, currency).format()
    except KeyError:
        return f"{minor} {currency}"


def _side(ours: OurSide | None) -> dict | None:
    if ours is None:
        return None
    return {"movement": ours.movement.value, "source_id": ours.source_id, "ref": ours.ref, "currency": ours.currency,
            "amount": ours.amount, "fee": ours.fee, "outcome": ours.outcome.value, "at": ours.at,
            "found_by": ours.found_by}


def _describe(kind: MismatchClass, psp: PspSide, ours: OurSide | None) -> str:
    what = f"{psp.movement.value} {psp.source_id}"
    if kind is MismatchClass.MISSING_IN_LEDGER:
        return f"The PSP reports {what} ({_money(psp.gross, psp.currency)}); our books do not have it."
    if kind is MismatchClass.DUPLICATE:
        if psp.repeat > 1:
            return f"Balance transaction {psp.balance_transaction_id} appears {psp.repeat} times in the report."
        assert ours is not None
        return f"Our record {ours.ref} is already backed by {ours.source_id}; the PSP also reports {psp.source_id}."
    assert ours is not None
    if kind is MismatchClass.STATUS_MISMATCH:
        return f"The PSP reports {what}; our books say {ours.movement.value} ({ours.outcome.value})."
    if kind is MismatchClass.CURRENCY_MISMATCH:
        return f"{what}: the PSP says {psp.currency}, we booked {ours.currency}."
    if kind is MismatchClass.AMOUNT_MISMATCH:
        return f"{what}: the PSP says {_money(psp.gross, psp.currency)}, we booked {_money(ours.amount, psp.currency)}."
    if kind is MismatchClass.FEE_MISMATCH:
        return (f"{what}: the PSP's fee is {_money(psp.fee, psp.currency)}, we booked "
                f"{_money(ours.fee, psp.currency)}.")
    return f"{what} is on the PSP's report of this day; we booked it on a neighbouring day."


def _query(sql: str, **lists: Sequence[str]) -> Any:
    return text(sql).bindparams(*(bindparam(name, expanding=True) for name in lists))


def _psp_side(row: Any, prefix: str = "", repeat: int = 1) -> PspSide:
    value = lambda name: getattr(row, f"{prefix}{name}")  # noqa: E731
    return PspSide(Movement(value("movement")), value("balance_transaction_id"), value("source_id"), value("currency"),
                   int(value("gross")), int(value("fee")), int(value("created")), repeat)


def match(run_id: str, day: date, report_kinds: set[str]) -> Matched:
    """Classify every difference between the run's report rows of `day` and our staged movements."""
    start, end = day_bounds(day)
    imports = list(db.session.scalars(text("SELECT import_id FROM recon_run_imports WHERE run_id = :run"),
                                      {"run": run_id})) or [""]
    movements = [movement for report, kinds in (("platform", PLATFORM_MOVEMENTS), ("connected", CONNECTED_MOVEMENTS))
                 if report in report_kinds for movement in kinds] or [""]
    params = {"run": run_id, "start": start, "end": end, "imports": imports, "movements": movements}
    result = Matched()
    counted = db.session.execute(_query(_COUNTS, imports=imports), params).one()
    result.rows, result.skipped = int(counted[0] or 0), int(counted[1] or 0)
    repeated: set[int] = set()
    twice = list(db.session.scalars(_query(_REPEATED.format(day=_DAY.format(a="")), imports=imports), params))
    repeats = _REPEATS.format(row=", ".join(f"r.{c}" for c in _ROW), r_day=_DAY.format(a="r."))
    for start_at in range(0, len(twice), _CHUNK):
        some = {**params, "repeated": twice[start_at:start_at + _CHUNK]}
        for row in db.session.execute(_query(repeats, imports=imports, repeated=[]), some):
            repeated.add(int(row.id))
            psp = _psp_side(row, repeat=int(row.repeat))
            result.findings.append(_psp_finding(MismatchClass.DUPLICATE, psp, None, row))
    pairs = db.session.execute(_query(_PAIRS.format(day=_DAY.format(a="")), imports=imports, movements=movements),
                               params).all()
    keyed = [(int(r), int(k)) for r, k in pairs if r is not None and k is not None and int(r) not in repeated]
    unkeyed = [int(r) for r, k in pairs if r is not None and k is None and int(r) not in repeated]
    unmatched_ours = any(r is None for r, _ in pairs)
    r_row = ", ".join(f"r.{c} AS r_{c}" for c in _ROW)
    for start_at in range(0, len(keyed), _CHUNK):
        slice_ = keyed[start_at:start_at + _CHUNK]
        details = _query(_KEYED.format(r_row=r_row, k=_columns("k")), ours=[], rows=[])
        for row in db.session.execute(details, {"ours": [k for _, k in slice_], "rows": [r for r, _ in slice_]}):
            _classify(result, row, day, _ours(row, "k", "key"))
    for start_at in range(0, len(unkeyed), _CHUNK):
        details = _query(_UNKEYED.format(r_row=r_row, f=_columns("f"), g=_columns("g")), rows=[])
        for row in db.session.execute(details, {"run": run_id, "rows": unkeyed[start_at:start_at + _CHUNK]}):
            _classify(result, row, day, _ours(row, "f", "ref") or _ours(row, "g", "family"))
    if unmatched_ours:
        result.findings.extend(_unreported(params, day))
    result.matched = result.rows - sum(1 for f in result.findings if f.balance_transaction_id is not None)
    return result


def _classify(result: Matched, row: Any, day: date, ours: OurSide | None) -> None:
    psp = _psp_side(row, "r_")
    kind = classify(psp, ours, day)
    if kind is not None:
        result.findings.append(_psp_finding(kind, psp, ours, row, "r_"))


def _unreported(params: dict[str, Any], day: date) -> list[Finding]:
    found = []
    query = _query(_UNREPORTED.format(r_day=_DAY.format(a="r.")), imports=params["imports"],
                   movements=params["movements"])
    for row in db.session.execute(query, params):
        ours = OurSide(Movement(row.movement), row.source_id, row.ref, row.currency, int(row.amount),
                       int(row.fee), Outcome(row.outcome), int(row.at))
        kind = classify_unreported(ours, day, in_neighbouring_day=bool(row.neighbour))
        found.append(Finding(
            kind, ours.movement, mismatch_key(kind, ours.movement.value, ours.source_id or ours.ref),
            source_id=ours.source_id, ref=ours.ref, account=row.account, currency=ours.currency,
            amount_ours=ours.amount, fee_ours=ours.fee, evidence={"psp": None, "ours": _side(ours)},
            detail=(f"We booked {ours.movement.value} {ours.source_id or ours.ref} "
                    f"({_money(ours.amount, ours.currency)}) on this day; "
                    + ("the PSP lists it on a neighbouring day." if row.neighbour else
                       "the PSP's report does not contain it."))))
    return found


def _psp_finding(kind: MismatchClass, psp: PspSide, ours: OurSide | None, row: Any, prefix: str = "") -> Finding:
    value = lambda name: getattr(row, f"{prefix}{name}")  # noqa: E731
    if kind is MismatchClass.DUPLICATE and psp.repeat > 1:
        key = mismatch_key(kind, psp.balance_transaction_id, str(psp.repeat))
    elif kind is MismatchClass.TIMING:
        key = mismatch_key(kind, psp.movement.value, psp.source_id)
    else:
        key = mismatch_key(kind, psp.balance_transaction_id)
    return Finding(
        kind, psp.movement, key, balance_transaction_id=psp.balance_transaction_id, source_id=psp.source_id,
        ref=value("ref") or (ours.ref if ours else None), account=value("account"), currency=psp.currency,
        amount_psp=psp.gross, amount_ours=ours.amount if ours else None, fee_psp=psp.fee,
        fee_ours=ours.fee if ours else None, detail=_describe(kind, psp, ours),
        payment_intent_id=value("payment_intent_id"),
        evidence={"psp": {"balance_transaction_id": psp.balance_transaction_id, "category": value("category"),
                          "source_id": psp.source_id, "ref": value("ref"), "account": value("account"),
                          "currency": psp.currency, "gross": psp.gross, "fee": psp.fee, "created": psp.created},
                  "ours": _side(ours)})


__all__ = ["DAY_SECONDS", "Finding", "Matched", "match"]
