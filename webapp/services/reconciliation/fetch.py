"""Fetching a day's settlement data from the PSP through its Reporting API, as Stripe documents it: check how far the
report types have data, create one report run per report (the platform's balance changes and the connected
accounts'), wait for them to succeed, and stream each file from the files host into a temporary file.

The interval is the day plus the next one (as far as the PSP has data): a movement we booked just before midnight
that the PSP lists just after it is then recognised as a timing difference at once.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from flask import current_app

from webapp.domain.errors import DomainError
from webapp.domain.reconciliation import DAY_SECONDS, day_bounds
from webapp.psp.reporting import (
    CONNECTED_REPORT,
    PLATFORM_REPORT,
    NewReportRun,
    ReportingPsp,
    ReportRun,
    ReportRunState,
    get_reporting_psp,
)
from webapp.services.reconciliation.settlement import CONNECTED_COLUMNS, PLATFORM_COLUMNS

Notify = Callable[[str, int, int | None], None]


class ReportUnavailable(DomainError):
    code = "report_unavailable"
    http_status = 409


def _wait(psp: ReportingPsp, run: ReportRun, timeout: float) -> ReportRun:
    deadline, pause = time.monotonic() + timeout, 0.1
    while run.state is ReportRunState.PENDING:
        if time.monotonic() > deadline:
            raise ReportUnavailable(f"report run {run.id} did not finish within {timeout:.0f} s")
        time.sleep(pause)
        pause = min(pause * 1.5, 2.0)
        run = psp.retrieve_report_run(run.id)
    if run.state is ReportRunState.FAILED or run.file_id is None:
        raise ReportUnavailable(f"report run {run.id} failed: {run.error or 'no file'}")
    return run


@contextmanager
def reports(day: date, notify: Notify, psp: ReportingPsp | None = None) -> Iterator[list[tuple[Path, str]]]:
    """The day's two reports as temporary CSV files (removed afterwards), each with a name for the import."""
    client = psp or get_reporting_psp()
    start, end = day_bounds(day)
    runs: list[ReportRun] = []
    for report_type, columns in ((PLATFORM_REPORT, PLATFORM_COLUMNS), (CONNECTED_REPORT, CONNECTED_COLUMNS)):
        available = client.retrieve_report_type(report_type)
        if available.data_available_end <= start:
            raise ReportUnavailable(f"the PSP has no {report_type} data for {day.isoformat()} yet")
        interval_end = min(end + DAY_SECONDS, available.data_available_end)
        notify("requesting", len(runs), 2)
        runs.append(client.create_report_run(NewReportRun(report_type, max(start, available.data_available_start),
                                                          interval_end, columns)))
    timeout = float(current_app.config["RECONCILE_REPORT_TIMEOUT_SECONDS"])
    with tempfile.TemporaryDirectory(prefix="reconcile-") as folder:
        files = []
        for index, run in enumerate(runs):
            notify("downloading", index, len(runs))
            done = _wait(client, run, timeout)
            assert done.file_id is not None
            path = Path(folder) / f"{done.file_id}.csv"
            with path.open("wb") as out:
                for block in client.download_file(done.file_id):
                    out.write(block)
            files.append((path, f"{done.report_type} {done.id}"))
        yield files
