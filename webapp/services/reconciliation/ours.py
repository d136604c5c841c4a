"""Our side of a run, staged in `recon_ours` by a few INSERT … SELECT statements (set-based, in the database): one
row per movement our records and ledger hold, signed as the PSP's report signs it.

- charge: a captured checkout (its capture entries' debit of the PSP balance) with the PSP fee we booked for its
  charge (the `psp_fee` entry); `ref` is the checkout, the id we put in the PaymentIntent's metadata. A checkout
  with no capture entry is staged only if it is not SUCCESS (`waiting` or `other`): a SUCCESS one without its
  capture entry is not in the ledger, so the PSP's charge is `missing_in_ledger`.
- refund / refund_failure: the money the PSP paid back (`refund_paid`), and back again when it bounced
  (`refund_returned`). A refund we asked for and never heard about is `waiting`.
- transfer / transfer_reversal: a payout's transfer to the seller's connected account and its reversal.
- payout / payout_failure: the payout from the connected account to the bank (its amount: the sum of its statement
  lines), and its failure or cancelation.

Only movements that can matter to the run are staged: booked in the days around it, or named by its report rows.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text

from webapp.dbtypes import UTCDateTime
from webapp.extensions import db


def _epoch(column: str) -> str:
    if db.session.get_bind().dialect.name == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


RUN = "CAST(:run AS VARCHAR(40))"  # typed: PostgreSQL cannot tell a bare parameter's type in a SELECT list
_INSERT = ("INSERT INTO recon_ours (run_id, movement, family, source_id, ref, account, currency, amount, fee, outcome,"
           " at) ")


def _entries(kind: str, by: str, positive_only: bool = True) -> str:
    """Per business object (`by`: payment_event_id, refund_id or payout_id): the total debited by its entries of
    `kind`, and when the first was posted."""
    sign = "AND p.amount > 0" if positive_only else ""
    return (f"(SELECT je.{by} AS owner, SUM(p.amount) AS amount, MIN(je.created_at) AS at FROM journal_entries je "
            f"JOIN postings p ON p.entry_id = je.id WHERE je.kind = '{kind}' {sign} GROUP BY je.{by})")


def _scope(id_column: str, key_column: str | None) -> str:
    """This run's movements: named by a row of its imports, or (added by the caller) booked in its time window."""
    named = f"{id_column} IN (SELECT ref FROM recon_rows WHERE import_id IN (SELECT import_id FROM recon_run_imports " \
            "WHERE run_id = :run) AND ref IS NOT NULL)"
    if key_column:
        named += f" OR {key_column} IN (SELECT source_id FROM recon_rows WHERE import_id IN (SELECT import_id FROM " \
                 "recon_run_imports WHERE run_id = :run))"
    return named


def _charges() -> str:
    # Booked: one pass over the checkouts' entries gives the capture (the PSP balance debited, its currency), the PSP
    # fee booked and when; the charge's id joined on. Not booked (a checkout not captured, named by a report row):
    # the few checkouts not SUCCESS, so the million captured ones are not joined with `payment_events` as well.
    booked = _INSERT + f"""
SELECT {RUN}, 'charge', 'charge', c.id, b.owner, NULL, b.currency, b.captured, COALESCE(b.fee, 0), 'booked',
       {_epoch("b.at")}
FROM (SELECT je.payment_event_id AS owner, MIN(p.currency) AS currency,
             SUM(CASE WHEN je.kind = 'capture' THEN p.amount END) AS captured,
             SUM(CASE WHEN je.kind = 'psp_fee' THEN p.amount END) AS fee,
             MIN(CASE WHEN je.kind = 'capture' THEN je.created_at END) AS at
      FROM journal_entries je JOIN postings p ON p.entry_id = je.id
      WHERE je.kind IN ('capture', 'psp_fee') AND p.amount > 0 GROUP BY je.payment_event_id) b
LEFT JOIN psp_charges c ON c.payment_event_id = b.owner
WHERE b.captured IS NOT NULL AND ((b.at >= :lo AND b.at < :hi) OR {_scope('b.owner', 'c.id')})"""
    unbooked = _INSERT + f"""
SELECT {RUN}, 'charge', 'charge', c.id, e.id, NULL, e.currency, 0, 0,
       CASE WHEN e.status IN ('NOT_STARTED', 'EXECUTING', 'PENDING') THEN 'waiting' ELSE 'other' END,
       {_epoch("e.updated_at")}
FROM payment_events e LEFT JOIN psp_charges c ON c.payment_event_id = e.id
WHERE e.status <> 'SUCCESS' AND ({_scope('e.id', 'c.id')})"""
    return booked + ";\n" + unbooked


def _refunds() -> str:
    at = _epoch("COALESCE(paid.at, r.updated_at)")
    back = _epoch("back.at")
    refunds = _INSERT + f"""
SELECT {RUN}, 'refund', 'refund', r.psp_refund_id, r.id, NULL, r.currency, -r.amount, 0,
       CASE WHEN paid.at IS NOT NULL THEN 'booked' WHEN r.status IN ('requested', 'pending') THEN 'waiting'
            ELSE 'other' END, {at}
FROM refunds r LEFT JOIN {_entries('refund_paid', 'refund_id')} paid ON paid.owner = r.id
WHERE (paid.at >= :lo AND paid.at < :hi) OR {_scope('r.id', 'r.psp_refund_id')}"""
    failures = _INSERT + f"""
SELECT {RUN}, 'refund_failure', 'refund', r.psp_refund_id, r.id, NULL, r.currency, r.amount, 0, 'booked', {back}
FROM refunds r JOIN {_entries('refund_returned', 'refund_id')} back ON back.owner = r.id
WHERE (back.at >= :lo AND back.at < :hi) OR {_scope('r.id', 'r.psp_refund_id')}"""
    return refunds + ";\n" + failures


def _payouts() -> str:
    sent = _epoch("COALESCE(tr.at, p.created_at)")
    rev = _epoch("COALESCE(rv.at, p.updated_at)")
    created = _epoch("p.created_at")
    failed = _epoch("COALESCE(p.settled_at, p.updated_at)")
    transfers = _INSERT + f"""
SELECT {RUN}, 'transfer', 'transfer', p.psp_transfer_id, p.id, NULL, p.currency, -p.amount, 0,
       CASE WHEN tr.at IS NOT NULL THEN 'booked' WHEN p.status = 'pending' THEN 'waiting' ELSE 'other' END, {sent}
FROM payouts p LEFT JOIN {_entries('payout_transferred', 'payout_id')} tr ON tr.owner = p.id
WHERE p.psp_transfer_id IS NOT NULL AND ((tr.at >= :lo AND tr.at < :hi) OR {_scope('p.id', 'p.psp_transfer_id')})"""
    reversals = _INSERT + f"""
SELECT {RUN}, 'transfer_reversal', 'transfer', p.psp_reversal_id, p.id, NULL, p.currency, p.amount, 0,
       CASE WHEN rv.at IS NOT NULL THEN 'booked' ELSE 'waiting' END, {rev}
FROM payouts p LEFT JOIN {_entries('payout_reversed', 'payout_id')} rv ON rv.owner = p.id
WHERE p.psp_reversal_id IS NOT NULL AND ((rv.at >= :lo AND rv.at < :hi) OR {_scope('p.id', 'p.psp_reversal_id')})"""
    # A payout's amount on our side is what its statement lines add up to: the PSP's payout row then checks both
    # that we paid what the lines say and (through the transfer, which carries `amount`) that they say the amount.
    payouts = _INSERT + f"""
SELECT {RUN}, 'payout', 'payout', p.psp_payout_id, p.id, p.psp_account_id, p.currency,
       -(SELECT COALESCE(SUM(i.amount), 0) FROM payout_items i WHERE i.payout_id = p.id), 0, 'booked', {created}
FROM payouts p
WHERE p.psp_payout_id IS NOT NULL AND ((p.created_at >= :lo AND p.created_at < :hi)
      OR {_scope('p.id', 'p.psp_payout_id')})"""
    failures = _INSERT + f"""
SELECT {RUN}, 'payout_failure', 'payout', p.psp_payout_id, p.id, p.psp_account_id, p.currency, p.amount, 0,
       'booked', {failed}
FROM payouts p
WHERE p.psp_payout_id IS NOT NULL AND p.status IN ('failed', 'canceled')
      AND ((COALESCE(p.settled_at, p.updated_at) >= :lo AND COALESCE(p.settled_at, p.updated_at) < :hi)
           OR {_scope('p.id', 'p.psp_payout_id')})"""
    return ";\n".join((transfers, reversals, payouts, failures))


def stage(run_id: str, lo, hi) -> None:
    """Stage our movements for `run_id`: those booked in [lo, hi) (aware datetimes: the run's day with a day
    either side, for timing differences) and those its report rows name (caller commits)."""
    for statement in (_charges(), _refunds(), _payouts()):
        for part in statement.split(";\n"):
            query = text(part).bindparams(*(bindparam(name, type_=UTCDateTime) for name in ("lo", "hi")
                                            if f":{name}" in part))
            db.session.execute(query, {"run": run_id, "lo": lo, "hi": hi})


def clear(run_id: str) -> None:
    db.session.execute(text("DELETE FROM recon_ours WHERE run_id = :run"), {"run": run_id})
