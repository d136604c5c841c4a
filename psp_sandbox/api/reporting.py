"""Reporting API routes: report types and report runs."""

from __future__ import annotations

from flask import request

from psp_sandbox.api import Call, owned, route
from psp_sandbox.lists import Query, envelope, page
from psp_sandbox.reporting import runs
from psp_sandbox.reporting.types import REPORT_TYPES


@route("/reporting/report_types")
def list_report_types(call: Call) -> dict:
    return envelope([runs.report_type(call.sb, type_id) for type_id in sorted(REPORT_TYPES)], False,
                    "/v1/reporting/report_types")


@route("/reporting/report_types/<type_id>")
def retrieve_report_type(call: Call, type_id: str) -> dict:
    return runs.report_type(call.sb, type_id)


@route("/reporting/report_runs", "POST")
def create_report_run(call: Call) -> dict:
    # The file's `url` points at the host the client called: the sandbox is its own files host.
    return runs.create(call.sb, call.params, call.account, request.host_url)


@route("/reporting/report_runs")
def list_report_runs(call: Call) -> dict:
    query = Query("reporting.report_run", call.account).time_range("created", call.params, "created")
    return page(call.sb.store, query, call.params, "/v1/reporting/report_runs")


@route("/reporting/report_runs/<run_id>")
def retrieve_report_run(call: Call, run_id: str) -> dict:
    return owned(call, run_id, "reporting.report_run")
