"""Deliberate misbehaviour, reproducible from a seed: slow or failing API paths, and webhooks that
are dropped, sent twice, or delayed so that they arrive out of order.

API and webhook decisions draw from separate random streams, so that the same seed gives the same
webhook faults whatever the API traffic was.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from psp_sandbox.errors import invalid
from psp_sandbox.store import Store

API_ERROR_KINDS = ("500", "503", "timeout")


@dataclass
class ApiFault:
    path_prefix: str = "/v1/"
    latency_ms: int = 0
    error_rate: float = 0.0
    error_kinds: list[str] = field(default_factory=lambda: list(API_ERROR_KINDS))
    # A "timeout" runs the request, then holds the answer this long and replies 504: the client cannot
    # tell whether it happened, which is what idempotency keys are for.
    timeout_seconds: float = 30.0


@dataclass
class WebhookFaults:
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    delay_rate: float = 0.0
    max_delay_seconds: float = 5.0


@dataclass
class FaultConfig:
    seed: int = 0
    api: list[ApiFault] = field(default_factory=list)
    webhooks: WebhookFaults = field(default_factory=WebhookFaults)


@dataclass(frozen=True)
class ApiDecision:
    latency: float = 0.0
    error: str | None = None
    timeout: float = 0.0


@dataclass
class ReportFaults:
    """Rows to leave out of (`withhold`) or write twice in (`duplicate`) settlement reports, by balance
    transaction id or source id (`ch_…`, `re_…`, `tr_…`, `po_…`), for the `next` report run or `all` of them."""

    withhold: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    runs: str = "next"


class Faults:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        # What was injected since this server started, by kind (`api_500`, `webhook_drop`…): a soak's figures.
        self.injected: Counter[str] = Counter()
        self._apply(parse(store.kv_get("faults", {})))
        self.report = parse_report(store.kv_get("report_faults", {}))

    def configure_report(self, raw: dict) -> ReportFaults:
        config = parse_report(raw)
        with self._lock:
            self.report = config
        self._store.kv_set("report_faults", asdict(config))
        return config

    def take_report_rows(self) -> tuple[list[str], list[str]]:
        """The ids to withhold and to duplicate in the report run being created; a `next` fault is used up."""
        with self._lock:
            config = self.report
            if config.runs == "next" and (config.withhold or config.duplicate):
                self.report = ReportFaults()
                self._store.kv_set("report_faults", asdict(self.report))
        return list(config.withhold), list(config.duplicate)

    def _apply(self, config: FaultConfig) -> None:
        self.config = config
        self._api_random = random.Random(f"api:{config.seed}")
        self._webhook_random = random.Random(f"webhooks:{config.seed}")

    def configure(self, raw: dict) -> FaultConfig:
        config = parse(raw)
        with self._lock:
            self._apply(config)
        self._store.kv_set("faults", asdict(config))
        return config

    def for_api(self, path: str) -> ApiDecision:
        matching = [f for f in self.config.api if path.startswith(f.path_prefix)]
        if not matching:
            return ApiDecision()
        fault = max(matching, key=lambda f: len(f.path_prefix))
        with self._lock:
            failing = fault.error_rate > 0 and self._api_random.random() < fault.error_rate
            kind = self._api_random.choice(fault.error_kinds) if failing else None
            if kind:
                self.injected[f"api_{kind}"] += 1
            if fault.latency_ms:
                self.injected["api_latency"] += 1
        return ApiDecision(fault.latency_ms / 1000, kind, fault.timeout_seconds)

    def for_webhook(self) -> tuple[str | None, float]:
        """('drop' | 'duplicate' | 'delay' | None, delay in seconds) for one new delivery."""
        hooks = self.config.webhooks
        with self._lock:
            draw = self._webhook_random.random()
            delay = self._webhook_random.uniform(0, hooks.max_delay_seconds)
            if draw < hooks.drop_rate:
                decision: tuple[str | None, float] = ("drop", 0.0)
            elif draw < hooks.drop_rate + hooks.duplicate_rate:
                decision = ("duplicate", 0.0)
            elif draw < hooks.drop_rate + hooks.duplicate_rate + hooks.delay_rate:
                decision = ("delay", delay)
            else:
                return None, 0.0
            self.injected[f"webhook_{decision[0]}"] += 1
        return decision


def parse(raw: dict) -> FaultConfig:
    if not isinstance(raw, dict):
        raise invalid("Faults must be a JSON object")
    unknown = set(raw) - {"seed", "api", "webhooks"}
    if unknown:
        raise invalid(f"Invalid faults: unknown field {sorted(unknown)[0]}")
    if not isinstance(raw.get("api", []), list) or not isinstance(raw.get("webhooks", {}), dict):
        raise invalid("Invalid faults: `api` is a list of objects and `webhooks` an object")
    try:
        api = [ApiFault(**item) for item in raw.get("api", [])]
        hooks = WebhookFaults(**raw.get("webhooks", {}))
        config = FaultConfig(_number(raw.get("seed", 0), "seed", 0, 2**63, integer=True), api, hooks)
    except TypeError as exc:
        raise invalid(f"Invalid faults: {exc}")
    for fault in api:
        if not isinstance(fault.path_prefix, str) or not fault.path_prefix.startswith("/"):
            raise invalid("Invalid faults: path_prefix is a path such as /v1/refunds")
        fault.latency_ms = _number(fault.latency_ms, "latency_ms", 0, 60_000, integer=True)
        fault.error_rate = _number(fault.error_rate, "error_rate", 0, 1)
        fault.timeout_seconds = _number(fault.timeout_seconds, "timeout_seconds", 0, 300)
        if not isinstance(fault.error_kinds, list) or any(kind not in API_ERROR_KINDS for kind in fault.error_kinds):
            raise invalid(f"Invalid faults: error_kinds are among {', '.join(API_ERROR_KINDS)}")
    hooks.drop_rate = _number(hooks.drop_rate, "drop_rate", 0, 1)
    hooks.duplicate_rate = _number(hooks.duplicate_rate, "duplicate_rate", 0, 1)
    hooks.delay_rate = _number(hooks.delay_rate, "delay_rate", 0, 1)
    hooks.max_delay_seconds = _number(hooks.max_delay_seconds, "max_delay_seconds", 0, 300)
    if hooks.drop_rate + hooks.duplicate_rate + hooks.delay_rate > 1:
        raise invalid("Invalid faults: rates are between 0 and 1, and the webhook rates add up to at most 1")
    return config


def _number(value: object, name: str, low: float, high: float, integer: bool = False) -> Any:
    """A JSON number within [low, high]; booleans and strings are not numbers."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise invalid(f"Invalid faults: {name} is {'an integer' if integer else 'a number'} from {low} to {high}",
                      name)
    return value


def parse_report(raw: dict) -> ReportFaults:
    if not isinstance(raw, dict):
        raise invalid("Report faults must be a JSON object")
    unknown = set(raw) - {"withhold", "duplicate", "runs"}
    if unknown:
        raise invalid(f"Invalid report faults: unknown field {sorted(unknown)[0]}", sorted(unknown)[0])
    lists = {}
    for name in ("withhold", "duplicate"):
        value = raw.get(name, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise invalid(f"Invalid report faults: {name} is an id or a list of ids", name)
        lists[name] = value
    runs = raw.get("runs", "next")
    if runs not in ("next", "all"):
        raise invalid("Invalid report faults: runs is next or all", "runs")
    return ReportFaults(lists["withhold"], lists["duplicate"], runs)
