"""The PSP's reporting port: settlement reports and balances, for reconciliation.

Report runs are asynchronous at the PSP: `create_report_run` answers at once, `retrieve_report_run` tells when its
file is ready, and `download_file` streams the file's contents (CSV) from the files host. Values are the port's own
(no Stripe field names outside webapp.psp); times are Unix seconds of the PSP's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

PLATFORM_REPORT = "balance_change_from_activity.itemized.3"
CONNECTED_REPORT = "connected_account_balance_change_from_activity.itemized.3"
PAYOUT_REPORT = "payout_reconciliation.itemized.5"


class ReportRunState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class NewReportRun:
    report_type: str
    interval_start: int
    interval_end: int
    columns: tuple[str, ...] = ()
    connected_account: str | None = None


@dataclass(frozen=True)
class ReportRun:
    id: str
    report_type: str
    state: ReportRunState
    file_id: str | None
    error: str | None


@dataclass(frozen=True)
class ReportType:
    id: str
    data_available_start: int
    data_available_end: int


@dataclass(frozen=True)
class BalanceAmount:
    currency: str
    available: int
    pending: int


@dataclass(frozen=True)
class PayoutTransaction:
    """One balance transaction a payout settles (`GET /v1/balance_transactions?payout=`)."""

    id: str
    category: str
    source_id: str | None
    currency: str
    amount: int
    fee: int
    created: int


@dataclass(frozen=True)
class Balance:
    account: str | None  # None: the platform
    amounts: tuple[BalanceAmount, ...] = field(default_factory=tuple)


class ReportingPsp(Protocol):
    def retrieve_report_type(self, report_type: str) -> ReportType: ...

    def create_report_run(self, request: NewReportRun) -> ReportRun: ...

    def retrieve_report_run(self, run_id: str) -> ReportRun: ...

    def download_file(self, file_id: str) -> Iterator[bytes]: ...

    def retrieve_balance(self, account: str | None) -> Balance: ...

    def payout_transactions(self, account: str, payout_id: str) -> list[PayoutTransaction]: ...


def get_reporting_psp() -> ReportingPsp:
    from webapp.psp.stripe_reporting import reporting_for_app

    return reporting_for_app()
