"""Set-based matching of a day's report rows against our staged movements, in the database.

Two queries do the work whatever the number of rows: the report's rows of the day left-joined to our movements (by
the PSP's id first, then by our id from the metadata, then to another movement of the same PSP object), keeping only
the pairs where something differs; and our movements of the day that no row of the day names. Only those few
candidates come back to Python, where `webapp.domain.reconciliation.classify` names each one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text

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
_PSP_ROWS = """
WITH day_rows AS (
  SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.balance_transaction_id ORDER BY r.import_id, r.line) AS repeat
  FROM recon_rows r
  WHERE r.import_id IN (SELECT import_id FROM recon_run_imports WHERE run_id = :run)
    AND r.created >= :start AND r.created < :end AND r.movement <> 'mirror'
)
SELECT r.balance_transaction_id, r.movement, r.source_id, r.ref, r.account, r.currency, r.gross, r.fee, r.created,
       r.repeat, r.payment_intent_id, r.category, {k}, {f}, {g}
FROM day_rows r
LEFT JOIN recon_ours k ON k.run_id = :run AND k.movement = r.movement AND k.source_id = r.source_id
LEFT JOIN recon_ours f ON k.id IS NULL AND f.run_id = :run AND f.movement = r.movement AND f.ref = r.ref
LEFT JOIN recon_ours g ON k.id IS NULL AND f.id IS NULL AND g.run_id = :run AND g.family = r.family
                       AND g.source_id = r.source_id AND g.movement <> r.movement
WHERE r.repeat > 1 OR (k.id IS NULL AND f.id IS NULL)
   OR (k.id IS NULL AND f.source_id IS NOT NULL AND f.source_id <> r.source_id)
   OR COALESCE(k.outcome, f.outcome) <> 'booked' OR COALESCE(k.currency, f.currency) <> r.currency
   OR COALESCE(k.amount, f.amount) <> r.gross OR COALESCE(k.fee, f.fee) <> r.fee
   OR COALESCE(k.at, f.at) < :start OR COALESCE(k.at, f.at) >= :end
"""
_COUNTS = """
SELECT SUM(CASE WHEN movement = 'mirror' THEN 0 ELSE 1 END), SUM(CASE WHEN movement = 'mirror' THEN 1 ELSE 0 END)
FROM recon_rows WHERE import_id IN (SELECT import_id FROM recon_run_imports WHERE run_id = :run)
  AND created >= :start AND created < :end
"""
_UNREPORTED = """
SELECT o.id, o.movement, o.source_id, o.ref, o.account, o.currency, o.amount, o.fee, o.outcome, o.at,
       EXISTS (SELECT 1 FROM recon_rows n WHERE n.movement = o.movement AND n.source_id = o.source_id
               AND ((n.created >= :start - 86400 AND n.created < :start) OR (n.created >= :end AND
                    n.created < :end + 86400))) AS neighbour
FROM recon_ours o
WHERE o.run_id = :run AND o.outcome = 'booked' AND o.at >= :start AND o.at < :end AND o.movement IN ({movements})
  AND NOT EXISTS (SELECT 1 FROM recon_rows r WHERE r.import_id IN (SELECT import_id FROM recon_run_imports
                  WHERE run_id = :run) AND r.created >= :start AND r.created < :end AND r.movement = o.movement
                  AND r.source_id = o.source_id)
  AND NOT EXISTS (SELECT 1 FROM recon_rows r WHERE r.import_id IN (SELECT import_id FROM recon_run_imports
                  WHERE run_id = :run) AND r.created >= :start AND r.created < :end AND r.movement = o.movement
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


def match(run_id: str, day: date, report_kinds: set[str]) -> Matched:
    """Classify every difference between the run's report rows of `day` and our staged movements."""
    start, end = day_bounds(day)
    params = {"run": run_id, "start": start, "end": end}
    result = Matched()
    counted = db.session.execute(text(_COUNTS), params).one()
    result.rows, result.skipped = int(counted[0] or 0), int(counted[1] or 0)
    query = _PSP_ROWS.format(k=_columns("k"), f=_columns("f"), g=_columns("g"))
    for row in db.session.execute(text(query), params):
        psp = PspSide(Movement(row.movement), row.balance_transaction_id, row.source_id, row.currency, int(row.gross),
                      int(row.fee), int(row.created), int(row.repeat))
        ours = _ours(row, "k", "key") or _ours(row, "f", "ref") or _ours(row, "g", "family")
        kind = classify(psp, ours, day)
        if kind is None:
            continue
        result.findings.append(_psp_finding(kind, psp, ours, row))
    movements = [movement for report, kinds in (("platform", PLATFORM_MOVEMENTS), ("connected", CONNECTED_MOVEMENTS))
                 if report in report_kinds for movement in kinds]
    if movements:
        listed = ", ".join(f"'{m}'" for m in movements)
        for row in db.session.execute(text(_UNREPORTED.format(movements=listed)), params):
            ours = OurSide(Movement(row.movement), row.source_id, row.ref, row.currency, int(row.amount),
                           int(row.fee), Outcome(row.outcome), int(row.at))
            kind = classify_unreported(ours, day, in_neighbouring_day=bool(row.neighbour))
            result.findings.append(Finding(
                kind, ours.movement, mismatch_key(kind, ours.movement.value, ours.source_id or ours.ref),
                source_id=ours.source_id, ref=ours.ref, account=row.account, currency=ours.currency,
                amount_ours=ours.amount, fee_ours=ours.fee, evidence={"psp": None, "ours": _side(ours)},
                detail=(f"We booked {ours.movement.value} {ours.source_id or ours.ref} "
                        f"({_money(ours.amount, ours.currency)}) on this day; "
                        + ("the PSP lists it on a neighbouring day." if row.neighbour else
                           "the PSP's report does not contain it."))))
    result.matched = result.rows - sum(1 for f in result.findings if f.balance_transaction_id is not None)
    return result


def _psp_finding(kind: MismatchClass, psp: PspSide, ours: OurSide | None, row: Any) -> Finding:
    if kind is MismatchClass.DUPLICATE and psp.repeat > 1:
        key = mismatch_key(kind, psp.balance_transaction_id, str(psp.repeat))
    elif kind is MismatchClass.TIMING:
        key = mismatch_key(kind, psp.movement.value, psp.source_id)
    else:
        key = mismatch_key(kind, psp.balance_transaction_id)
    return Finding(
        kind, psp.movement, key, balance_transaction_id=psp.balance_transaction_id, source_id=psp.source_id,
        ref=row.ref or (ours.ref if ours else None), account=row.account, currency=psp.currency,
        amount_psp=psp.gross, amount_ours=ours.amount if ours else None, fee_psp=psp.fee,
        fee_ours=ours.fee if ours else None, detail=_describe(kind, psp, ours), payment_intent_id=row.payment_intent_id,
        evidence={"psp": {"balance_transaction_id": psp.balance_transaction_id, "category": row.category,
                          "source_id": psp.source_id, "ref": row.ref, "account": row.account,
                          "currency": psp.currency, "gross": psp.gross, "fee": psp.fee, "created": psp.created},
                  "ours": _side(ours)})


__all__ = ["DAY_SECONDS", "Finding", "Matched", "match"]
