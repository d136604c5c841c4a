"""Deliberate misbehaviour, reproducible from a seed: slow or failing API paths, and webhooks that
are dropped, sent twice, or delayed so that they arrive out of order.

API and webhook decisions draw from separate random streams, so that the same seed gives the same
webhook faults whatever the API traffic was.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field

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


class Faults:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._apply(parse(store.kv_get("faults", {})))

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
        return ApiDecision(fault.latency_ms / 1000, kind, fault.timeout_seconds)

    def for_webhook(self) -> tuple[str | None, float]:
        """('drop' | 'duplicate' | 'delay' | None, delay in seconds) for one new delivery."""
        hooks = self.config.webhooks
        with self._lock:
            draw = self._webhook_random.random()
            delay = self._webhook_random.uniform(0, hooks.max_delay_seconds)
        if draw < hooks.drop_rate:
            return "drop", 0.0
        if draw < hooks.drop_rate + hooks.duplicate_rate:
            return "duplicate", 0.0
        if draw < hooks.drop_rate + hooks.duplicate_rate + hooks.delay_rate:
            return "delay", delay
        return None, 0.0


def parse(raw: dict) -> FaultConfig:
    if not isinstance(raw, dict):
        raise invalid("Faults must be a JSON object")
    try:
        api = [ApiFault(**item) for item in raw.get("api", [])]
        hooks = WebhookFaults(**raw.get("webhooks", {}))
        config = FaultConfig(int(raw.get("seed", 0)), api, hooks)
    except (TypeError, ValueError) as exc:
        raise invalid(f"Invalid faults: {exc}")
    rates = [hooks.drop_rate, hooks.duplicate_rate, hooks.delay_rate, *(f.error_rate for f in api)]
    if any(not 0 <= rate <= 1 for rate in rates) or hooks.drop_rate + hooks.duplicate_rate + hooks.delay_rate > 1:
        raise invalid("Invalid faults: rates are between 0 and 1, and the webhook rates add up to at most 1")
    if any(kind not in API_ERROR_KINDS for f in api for kind in f.error_kinds):
        raise invalid(f"Invalid faults: error_kinds are among {', '.join(API_ERROR_KINDS)}")
    return config
