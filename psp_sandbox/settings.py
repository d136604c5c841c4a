"""The sandbox's tunable behaviour, with Stripe-like defaults; the CLI fills it in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DAY = 86_400


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 12111
    db_path: Path = Path("instance/psp_sandbox.db")
    threads: int = 16
    # Stripe's standard European card pricing is a percentage plus a fixed amount in minor units.
    fee_percent: float = 2.9
    fee_fixed: int = 30
    available_delay: int = 2 * DAY
    bank_transfer_delay: int = DAY
    payout_transit_delay: int = 3_600
    payout_arrival_delay: int = DAY
    refund_failure_delay: int = 3_600
    session_lifetime: int = DAY
    webhook_retry_base: float = 1.0
    webhook_max_attempts: int = 8
    webhook_timeout: float = 10.0
    webhook_workers: int = 8
    tick_seconds: float = 1.0
    merchant_name: str = "Sandbox Merchant"
    platform_country: str = "DE"
    platform_currency: str = "eur"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    log_format: str = "auto"  # json, console, or auto (console on a terminal)
    # The control endpoints (/_sandbox/...: clock, faults, reports, dashboard) answer loopback clients only,
    # unless the server is started with --allow-remote-control.
    allow_remote_control: bool = False

    def retry_delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed delivery: exponential, like Stripe's but compressed."""
        return self.webhook_retry_base * 2 ** (attempts - 1)

    def fee(self, amount: int) -> int:
        return round(amount * self.fee_percent / 100) + self.fee_fixed
