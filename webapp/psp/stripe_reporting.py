"""The reporting port with the official SDK: report runs, files from the files host, balances, payout itemization.

Points both the API and the files host (`files.stripe.com` in production) at STRIPE_API_BASE unless
STRIPE_FILES_BASE says otherwise: the sandbox serves both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import stripe
from flask import current_app

from webapp.psp.reporting import (
    Balance,
    BalanceAmount,
    NewReportRun,
    PayoutTransaction,
    ReportRun,
    ReportRunState,
    ReportType,
)
from webapp.psp.stripe_adapter import _translate

T = TypeVar("T")
_CHUNK = 1 << 16


def _run(found: dict[str, Any]) -> ReportRun:
    result = found.get("result")
    file_id = result.get("id") if isinstance(result, dict) else result
    return ReportRun(found["id"], found["report_type"], ReportRunState(found["status"]), file_id, found.get("error"))


def _amounts(found: dict[str, Any]) -> tuple[BalanceAmount, ...]:
    totals: dict[str, list[int]] = {}
    for side, index in (("available", 0), ("pending", 1)):
        for item in found.get(side) or []:
            totals.setdefault(str(item["currency"]).upper(), [0, 0])[index] += int(item["amount"])
    return tuple(BalanceAmount(c, a, p) for c, (a, p) in sorted(totals.items()))


class StripeReporting:
    """Implements webapp.psp.reporting.ReportingPsp."""

    def __init__(self, api_key: str, api_base: str, files_base: str, max_network_retries: int,
                 timeout: float = 60) -> None:
        self._client = stripe.StripeClient(api_key, base_addresses={"api": api_base, "files": files_base},
                                           max_network_retries=max_network_retries,
                                           http_client=stripe.RequestsClient(timeout=timeout))

    @staticmethod
    def _call(request: Callable[[], T]) -> T:
        try:
            return request()
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def retrieve_report_type(self, report_type: str) -> ReportType:
        found = self._call(lambda: self._client.v1.reporting.report_types.retrieve(report_type)).to_dict()
        return ReportType(found["id"], int(found["data_available_start"]), int(found["data_available_end"]))

    def create_report_run(self, request: NewReportRun) -> ReportRun:
        parameters: dict[str, Any] = {"interval_start": request.interval_start, "interval_end": request.interval_end,
                                      "timezone": "Etc/UTC"}
        if request.columns:
            parameters["columns"] = list(request.columns)
        if request.connected_account:
            parameters["connected_account"] = request.connected_account
        created = self._call(lambda: self._client.v1.reporting.report_runs.create(
            {"report_type": request.report_type, "parameters": parameters}))  # type: ignore[typeddict-item]
        return _run(created.to_dict())

    def retrieve_report_run(self, run_id: str) -> ReportRun:
        return _run(self._call(lambda: self._client.v1.reporting.report_runs.retrieve(run_id)).to_dict())

    def download_file(self, file_id: str) -> Iterator[bytes]:
        # The SDK's streamed request (what its own file downloads use) on the files host.
        response = self._call(lambda: self._client._requestor.request_stream(
            "get", f"/v1/files/{file_id}/contents", base_address="files"))
        stream = response.io
        try:
            while block := stream.read(_CHUNK):
                yield block
        finally:
            stream.close()

    def retrieve_balance(self, account: str | None) -> Balance:
        options: dict[str, Any] = {"stripe_account": account} if account else {}
        found = self._call(lambda: self._client.v1.balance.retrieve(options=options)).to_dict()  # type: ignore
        return Balance(account, _amounts(found))

    def payout_transactions(self, account: str, payout_id: str) -> list[PayoutTransaction]:
        page = self._call(lambda: self._client.v1.balance_transactions.list(
            {"payout": payout_id, "limit": 100}, {"stripe_account": account}))
        found = []
        for item in page.auto_paging_iter():
            data = item.to_dict()
            source = data.get("source")
            found.append(PayoutTransaction(data["id"], data.get("reporting_category") or data.get("type", ""),
                                           source.get("id") if isinstance(source, dict) else source,
                                           str(data["currency"]).upper(), int(data["amount"]), int(data["fee"]),
                                           int(data["created"])))
        return found


_lock = threading.Lock()


def reporting_for_app() -> StripeReporting:
    """The reporting adapter for the current app's settings, built once per app."""
    config = current_app.config
    base = config["STRIPE_API_BASE"]
    files = config.get("STRIPE_FILES_BASE") or base
    key = (config["STRIPE_API_KEY"], base, files)
    with _lock:
        cached = current_app.extensions.get("psp_reporting")
        if cached is None or cached[0] != key:  # settings changed (tests point the app at another sandbox)
            cached = (key, StripeReporting(config["STRIPE_API_KEY"], base, files, config["STRIPE_MAX_NETWORK_RETRIES"]))
            current_app.extensions["psp_reporting"] = cached
    return cached[1]
