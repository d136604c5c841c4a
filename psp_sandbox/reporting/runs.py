"""Report runs: `POST /v1/reporting/report_runs` checks the parameters and answers `pending` at once; a
background thread writes the CSV to a file (streamed), then the run becomes `succeeded` with a File as
its `result` and `reporting.report_run.succeeded` is sent (or `failed` and `reporting.report_run.failed`).
Runs still pending when the sandbox stops are run again when it starts."""

from __future__ import annotations

import logging
import os
import queue
import threading
import zoneinfo
from pathlib import Path

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, missing, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.reporting import files, generate
from psp_sandbox.reporting.types import REPORT_TYPES, ReportType
from psp_sandbox.resources import events
from psp_sandbox.store import Row

DAY = 86_400
# Stripe's reporting categories (the description's enum for `parameters[reporting_category]`).
CATEGORIES = (
    "advance", "advance_funding", "anticipation_repayment", "charge", "charge_failure", "connect_collection_transfer",
    "connect_reserved_funds", "contribution", "dispute", "dispute_reversal", "fee", "financing_paydown",
    "financing_paydown_reversal", "financing_payout", "financing_payout_reversal", "issuing_authorization_hold",
    "issuing_authorization_release", "issuing_dispute", "issuing_transaction", "network_cost", "obligation",
    "other_adjustment", "partial_capture_reversal", "payout", "payout_reversal", "platform_earning",
    "platform_earning_refund", "refund", "refund_failure", "risk_reserved_funds", "tax", "topup", "topup_reversal",
    "transfer", "transfer_reversal",
)


def report_type(sb: Sandbox, type_id: str, param: str | None = None) -> dict:
    found = REPORT_TYPES.get(type_id)
    if found is None:
        raise no_such("reporting.report_type", type_id, param)
    start, end = data_available(sb)
    return found.object(start, end)


def data_available(sb: Sandbox) -> tuple[int, int]:
    """From the start of the UTC day of the sandbox's first object to now (sandbox clock)."""
    # The clock only moves forward, so the first object stored is the oldest (no scan of the whole table).
    found = sb.store.conn().execute("SELECT created FROM objects WHERE created > 0 ORDER BY seq LIMIT 1").fetchone()
    first = found[0] if found else None
    now = sb.clock.now()
    start = min(first or now, now)
    return start - start % DAY, now


def create(sb: Sandbox, params: dict, account: str, files_base: str) -> Row:
    type_id = p.string(params, "report_type", required=True) or ""
    kind = REPORT_TYPES.get(type_id)
    if kind is None:
        raise no_such("reporting.report_type", type_id, "report_type")
    if kind.platform_only and account != PLATFORM_ACCOUNT:
        raise invalid(f"The report type {type_id} is only available to platforms.", "report_type")
    given = _parameters(sb, kind, p.nested(params, "parameters"))
    now = sb.clock.now()
    run = {
        "id": new_id("frr"), "object": "reporting.report_run", "created": now, "error": None, "livemode": False,
        "parameters": given, "report_type": type_id, "result": None, "status": "pending", "succeeded_at": None,
    }
    # Report faults are taken now, so that "the next run" means the next one created, even across a restart.
    withhold, duplicate = sb.faults.take_report_rows()
    row = sb.store.insert(run, account, {"files_base": files_base.rstrip("/"), "withhold": withhold,
                                         "duplicate": duplicate})
    run_id = row["id"]
    sb.store.after_commit(lambda: submit(sb, run_id))
    return row


def _parameters(sb: Sandbox, kind: ReportType, given: dict) -> dict:
    for name in given:
        if name not in kind.parameters:
            raise invalid(f"The parameter {name} is not a run parameter of report type {kind.id} (it takes "
                          f"{', '.join(kind.parameters)}).", p.full_name(given, name))
    out: dict = {}
    start, end = p.integer(given, "interval_start"), p.integer(given, "interval_end")
    if start is None:
        raise missing(p.full_name(given, "interval_start"))
    if end is None:
        raise missing(p.full_name(given, "interval_end"))
    if start >= end:
        raise invalid("`interval_start` must be before `interval_end`.", p.full_name(given, "interval_start"))
    out.update(interval_start=start, interval_end=end)
    timezone = p.string(given, "timezone")
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise invalid(f"Invalid timezone: {timezone}", p.full_name(given, "timezone"))
        out["timezone"] = timezone
    currency = p.currency(given, required=False)
    if currency:
        out["currency"] = currency
    category = p.choice(given, "reporting_category", CATEGORIES)
    if category:
        out["reporting_category"] = category
    for name in ("connected_account", "payout"):
        value = p.string(given, name)
        if value:
            out[name] = value
    if "connected_account" in out and sb.store.get(out["connected_account"], PLATFORM_ACCOUNT, "account") is None:
        raise no_such("account", out["connected_account"], p.full_name(given, "connected_account"))
    columns = p.string_list(given, "columns")
    for index, column in enumerate(columns):
        if column not in kind.columns and not generate.is_metadata_column(column):
            raise invalid(f"Invalid column: {column}. Report type {kind.id} has the columns "
                          f"{', '.join(kind.columns)}.", f"{p.full_name(given, 'columns')}[{index}]")
    if columns:
        out["columns"] = columns
    first, last = data_available(sb)
    if start < first or end > last:
        name = "interval_start" if start < first else "interval_end"
        raise invalid(f"`{name}` must be between data_available_start ({first}) and data_available_end ({last}) of "
                      f"report type {kind.id}.", p.full_name(given, name))
    return out


def selection(run: Row) -> generate.Selection:
    given = run["parameters"]
    kind = REPORT_TYPES[run["report_type"]]
    return generate.Selection(
        kind, run.account, given["interval_start"], given["interval_end"],
        list(given.get("columns") or kind.default_columns), given.get("timezone", "UTC"), given.get("currency"),
        given.get("reporting_category"), given.get("connected_account"), given.get("payout"),
        set(run.private.get("withhold", [])), set(run.private.get("duplicate", [])),
    )


def execute(sb: Sandbox, run_id: str) -> None:
    """Produce the run's file and finish the run (in the runner thread)."""
    run = sb.store.get(run_id, type_="reporting.report_run")
    if run is None or run["status"] != "pending":
        return
    file_id = new_id("file")
    path = files.path_of(sb, file_id)
    try:
        temporary = path.with_suffix(".part")
        with temporary.open("w", encoding="utf-8", newline="") as out:
            generate.write_csv(sb, selection(run), out)
        os.replace(temporary, path)
    except Exception as exc:
        logging.getLogger(__name__).exception("report run %s failed", run_id)
        _finish(sb, run_id, None, f"The report could not be produced: {exc}")
        return
    _finish(sb, run_id, (file_id, path), None)


def _finish(sb: Sandbox, run_id: str, produced: tuple[str, Path] | None, error: str | None) -> None:
    with sb.store.write():
        run = sb.store.get(run_id, type_="reporting.report_run")
        if run is None:
            return
        if produced is None:
            run.update(status="failed", error=error)
        else:
            file_id, path = produced
            title = f"{run['report_type']} {run['id']}"
            result = files.record(sb, file_id, path, run.account, title, run.private["files_base"])
            run.update(status="succeeded", succeeded_at=sb.clock.now(), result=dict(result))
        sb.store.save(run)
        events.emit(sb, f"reporting.report_run.{run['status']}", run, run.account)


# One thread runs reports one after the other, beside the API's request threads: a long report never
# blocks the API (it reads from its own SQLite connection while writers go on).
_queue: queue.Queue[tuple[Sandbox, str]] = queue.Queue()
_started = threading.Lock()
_thread: list[threading.Thread] = []


def submit(sb: Sandbox, run_id: str) -> None:
    with _started:
        if not _thread:
            _thread.append(threading.Thread(target=_work, daemon=True, name="report-runs"))
            _thread[0].start()
    _queue.put((sb, run_id))


def _work() -> None:
    while True:
        sb, run_id = _queue.get()
        try:
            execute(sb, run_id)
        except Exception:
            logging.getLogger(__name__).exception("report run %s could not be finished", run_id)


def resume(sb: Sandbox) -> None:
    """Queue the runs left pending by a stop."""
    for run in sb.store.select("type = 'reporting.report_run' AND json_extract(data, '$.status') = 'pending'", [],
                               "seq ASC"):
        submit(sb, run["id"])
