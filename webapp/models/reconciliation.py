"""Reconciliation's tables: imported settlement files and their rows, runs, the mismatches they find, and the audit
trail of what people did about them. Statuses: see webapp.domain.reconciliation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model

_CLASSES = ("('missing_in_ledger', 'missing_at_psp', 'amount_mismatch', 'fee_mismatch', 'currency_mismatch', "
            "'status_mismatch', 'duplicate', 'timing', 'balance_mismatch')")
_MISMATCH_STATUSES = "('open', 'auto_resolved', 'adjusted', 'accepted', 'cleared')"
_RUN_STATUSES = "('running', 'succeeded', 'failed')"
_SOURCES = "('psp', 'file')"


def _bigint_id() -> Mapped[int]:
    return mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


class ReconImport(Model):
    """One settlement file, imported once: the same content (by SHA-256) is the same import."""

    __tablename__ = "recon_imports"
    __table_args__ = (CheckConstraint(f"source IN {_SOURCES}", name="source_known"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rimp"))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(10))
    report: Mapped[str] = mapped_column(String(20))  # platform | connected (the connected accounts' report)
    name: Mapped[str] = mapped_column(String(300))  # file name, or the report run's id
    rows: Mapped[int] = mapped_column(Integer, default=0)
    first_created: Mapped[int | None] = mapped_column(BigInteger)  # PSP time span of its rows
    last_created: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReconRow(Model):
    """One row of an imported report, amounts in minor units. `account` is the connected account whose balance
    changed (None: the platform's); `ref` is our own id found in the row's metadata.

    A report holds a million rows a day, written once by the import that also writes their `recon_imports` row (in
    the same transaction): so `import_id` has no foreign key (its check, a trigger per row, cost more than the rest
    of the import), and only the index the matching uses is kept: rows by import and time (a run's day, the
    neighbouring days); everything else is joined by hash."""

    __tablename__ = "recon_rows"
    __table_args__ = (Index("ix_recon_rows_import_created", "import_id", "created"),)

    id: Mapped[int] = _bigint_id()
    import_id: Mapped[str] = mapped_column(String(40))
    line: Mapped[int] = mapped_column(Integer)
    balance_transaction_id: Mapped[str] = mapped_column(String(255))
    account: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(60))
    movement: Mapped[str] = mapped_column(String(30))
    family: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(255))
    ref: Mapped[str | None] = mapped_column(String(255))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    gross: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)


class ReconRun(Model):
    """Reconciling one UTC day once. `counts` is JSON: mismatches found per class."""

    __tablename__ = "recon_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {_RUN_STATUSES}", name="status_known"),
        CheckConstraint(f"source IN {_SOURCES}", name="source_known"),
        Index("ix_recon_runs_day", "day", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rrun"))
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="running")
    triggered_by: Mapped[str] = mapped_column(String(255))  # cron | cli | an admin's email
    rows: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[str] = mapped_column(Text, default="{}")
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class ReconRunImport(Model):
    """The imports a run reconciled."""

    __tablename__ = "recon_run_imports"

    run_id: Mapped[str] = mapped_column(ForeignKey("recon_runs.id"), primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("recon_imports.id"), primary_key=True)


class ReconOurs(Model):
    """Our side of a run, staged for set-based matching: one row per movement our records and ledger hold
    (amounts signed as the PSP's report signs them). Emptied when the run ends. No index: the matching joins are
    hash joins over the whole run; on PostgreSQL the table is UNLOGGED (scratch rows, rebuilt by any run)."""

    __tablename__ = "recon_ours"

    id: Mapped[int] = _bigint_id()
    run_id: Mapped[str] = mapped_column(String(40))
    movement: Mapped[str] = mapped_column(String(30))
    family: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(255))
    ref: Mapped[str] = mapped_column(String(255))
    account: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[int] = mapped_column(BigInteger)


class ReconMismatch(Model):
    """One difference, named by a stable `key` within its `day` (a re-run of the day finds the same key).
    `evidence` is JSON: both sides as found."""

    __tablename__ = "recon_mismatches"
    __table_args__ = (
        UniqueConstraint("day", "key", name="uq_recon_mismatches_day_key"),
        CheckConstraint(f"class_name IN {_CLASSES}", name="class_known"),
        CheckConstraint(f"status IN {_MISMATCH_STATUSES}", name="status_known"),
        Index("ix_recon_mismatches_status_day", "status", "day"),
        Index("ix_recon_mismatches_run", "run_id"),
        Index("ix_recon_mismatches_source", "source_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("mis"))
    day: Mapped[date] = mapped_column(Date)
    key: Mapped[str] = mapped_column(String(200))
    class_name: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="open")
    movement: Mapped[str] = mapped_column(String(30))
    run_id: Mapped[str] = mapped_column(ForeignKey("recon_runs.id"))  # the last run that found it
    balance_transaction_id: Mapped[str | None] = mapped_column(String(255))
    source_id: Mapped[str | None] = mapped_column(String(255))
    ref: Mapped[str | None] = mapped_column(String(255))
    account: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_psp: Mapped[int | None] = mapped_column(BigInteger)
    amount_ours: Mapped[int | None] = mapped_column(BigInteger)
    fee_psp: Mapped[int | None] = mapped_column(BigInteger)
    fee_ours: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(500), default="")
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(255))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))  # the adjusting entry
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReconAction(Model):
    """The audit trail: who did what to a mismatch, when, with the state before and after (JSON)."""

    __tablename__ = "recon_actions"

    id: Mapped[int] = _bigint_id()
    mismatch_id: Mapped[str] = mapped_column(ForeignKey("recon_mismatches.id"), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(String(500), default="")
    before: Mapped[str] = mapped_column(Text, default="{}")
    after: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
