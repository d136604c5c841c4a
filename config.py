"""Configuration: the only module that reads environment variables.

`load_config()` picks a settings class from `APP_ENV` (development, test, production). Development
generates its secrets once per install and keeps them in `instance/dev-secrets.json`, so a fresh clone
runs without setup while no secret is ever committed. Production refuses to start when one is missing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance")).resolve()

SECRET_SETTINGS = ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET")
PRODUCTION_SETTINGS = ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_or(name: str, default: str) -> str:
    return _env(name) or default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}")


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (`postgresql://` or `postgres://`)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def postgres_session_options(url: str, idle_in_transaction_seconds: int) -> dict:
    """Engine options that set per-session PostgreSQL settings (nothing for SQLite, or when 0)."""
    if not url.startswith("postgresql") or idle_in_transaction_seconds <= 0:
        return {}
    return {"connect_args": {"options": f"-c idle_in_transaction_session_timeout={idle_in_transaction_seconds * 1000}"}}


def new_encryption_key() -> str:
    """A Fernet key (32 random bytes, urlsafe base64), the format DATA_ENCRYPTION_KEY expects."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _dev_secrets() -> dict[str, str]:
    """Per-install secrets for development, created on first use and then reused."""
    path = INSTANCE_DIR / "dev-secrets.json"
    try:
        stored = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        stored = {}
    wanted = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(48),
        "DATA_ENCRYPTION_KEY": new_encryption_key,
        "STRIPE_WEBHOOK_SECRET": lambda: "whsec_" + secrets.token_hex(24),
    }
    if not all(name in stored for name in wanted):
        for name, make in wanted.items():
            stored.setdefault(name, make())
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return stored


class Config:
    """Settings shared by every environment. Values come from the environment; see .env.example."""

    ENV_NAME = "base"
    TESTING = False
    DEBUG = False

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY")
        self.DATA_ENCRYPTION_KEY = _env("DATA_ENCRYPTION_KEY")
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(
            _env_or("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'gateway.db'}")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # A host that vanished mid-transaction (power cut, network partition) keeps its row locks until PostgreSQL
        # ends its session, and every other host waits on them: end sessions idle inside a transaction this long.
        self.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS = _int("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", 60)
        self.SQLALCHEMY_ENGINE_OPTIONS.update(postgres_session_options(
            self.SQLALCHEMY_DATABASE_URI, self.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS))
        self.REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
        self.STRIPE_API_KEY = _env("STRIPE_API_KEY")
        self.STRIPE_API_BASE = _env("STRIPE_API_BASE", "http://127.0.0.1:12111")
        self.STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
        # Real Stripe signs Connect events (sellers' payouts and accounts) with the Connect endpoint's own secret.
        self.STRIPE_CONNECT_WEBHOOK_SECRET = _env("STRIPE_CONNECT_WEBHOOK_SECRET")
        self.STRIPE_MAX_NETWORK_RETRIES = _int("STRIPE_MAX_NETWORK_RETRIES", 2)
        self.STRIPE_TIMEOUT_SECONDS = _int("STRIPE_TIMEOUT_SECONDS", 10)
        # Largest amount of one checkout, in minor units (Stripe's limit for two-decimal currencies).
        self.MAX_PAYMENT_AMOUNT_MINOR = _int("MAX_PAYMENT_AMOUNT_MINOR", 99_999_999)
        self.API_RATE_LIMIT = _env_or("API_RATE_LIMIT", "100 per second")
        # Outbox work (e.g. registering a checkout with the PSP): attempts and exponential backoff.
        self.OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 6)
        self.OUTBOX_BACKOFF_SECONDS = float(_env_or("OUTBOX_BACKOFF_SECONDS", "1"))
        # A worker's claim on a batch; rows of a worker that died become claimable again after this.
        self.OUTBOX_LEASE_SECONDS = _int("OUTBOX_LEASE_SECONDS", 30)
        # The sweeper asks the PSP about checkouts with no news for this long.
        self.PSP_SYNC_AFTER_SECONDS = _int("PSP_SYNC_AFTER_SECONDS", 300)
        # Payouts: the daily run's time (UTC, HH:MM), and polling the PSP for payouts with no news for this long.
        self.PAYOUT_RUN_AT = _env_or("PAYOUT_RUN_AT", "06:00")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", self.PAYOUT_RUN_AT):
            raise ConfigError(f"PAYOUT_RUN_AT must be HH:MM (UTC), got {self.PAYOUT_RUN_AT!r}")
        self.PAYOUT_SYNC_AFTER_SECONDS = _int("PAYOUT_SYNC_AFTER_SECONDS", 3600)
        self.RELAY_INTERVAL_SECONDS = _int("RELAY_INTERVAL_SECONDS", 2)
        self.SWEEP_INTERVAL_SECONDS = _int("SWEEP_INTERVAL_SECONDS", 30)
        self.LIVE_TOKEN_MAX_AGE_SECONDS = _int("LIVE_TOKEN_MAX_AGE_SECONDS", 24 * 3600)
        # Platform fee per payment order for merchants without their own (flask merchants set-fees):
        # basis points of the amount (300 = 3%) plus fixed minor units, rounded half up (docs/ledger.md).
        self.PLATFORM_FEE_BPS = _int("PLATFORM_FEE_BPS", 300)
        self.PLATFORM_FEE_FIXED_MINOR = _int("PLATFORM_FEE_FIXED_MINOR", 30)
        # How a refund is split between the seller's wallet and the platform's fee: `proportional` (the
        # platform returns the refunded fraction of its fee) or `retain` (the seller's share pays first).
        self.REFUND_FEE_POLICY = _env_or("REFUND_FEE_POLICY", "proportional")
        if self.REFUND_FEE_POLICY not in ("proportional", "retain"):
            raise ConfigError(f"REFUND_FEE_POLICY must be proportional or retain, got {self.REFUND_FEE_POLICY!r}")
        # Daily reconciliation of the previous UTC day, at this UTC time (HH:MM), by the cron process.
        self.RECONCILE_AT = _env_or("RECONCILE_AT", "02:30")
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", self.RECONCILE_AT):
            raise ConfigError(f"RECONCILE_AT must be HH:MM (UTC), got {self.RECONCILE_AT!r}")
        # A timing difference (a movement booked on a neighbouring day) still open this many days later escalates.
        self.RECONCILE_TIMING_ESCALATE_DAYS = _int("RECONCILE_TIMING_ESCALATE_DAYS", 3)
        # How long to wait for the PSP's report runs to finish (seconds).
        self.RECONCILE_REPORT_TIMEOUT_SECONDS = _int("RECONCILE_REPORT_TIMEOUT_SECONDS", 600)
        self.DEMO_SHOP_ENABLED = _bool("DEMO_SHOP_ENABLED", True)
        self.PORT = _int("PORT", 5000)
        self.PUBLIC_BASE_URL = (_env("PUBLIC_BASE_URL") or f"http://127.0.0.1:{self.PORT}").rstrip("/")
        self.LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute")
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", self.REDIS_URL)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, so a form left open still submits
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        self.MIN_PASSWORD_LENGTH = 12

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in dir(self) if name.isupper()}


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False

    def __init__(self) -> None:
        super().__init__()
        generated = _dev_secrets()
        for name, value in generated.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.STRIPE_API_KEY is None:
            self.STRIPE_API_KEY = "sk_test_sandbox"


class TestConfig(DevelopmentConfig):
    ENV_NAME = "test"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "1000 per minute")


class ProductionConfig(Config):
    ENV_NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
        self.DEMO_SHOP_ENABLED = _bool("DEMO_SHOP_ENABLED", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        missing = [name for name in SECRET_SETTINGS if not getattr(self, name)]
        # Every host reads the same settings from its environment: no file under instance/ is read in production,
        # and no address defaults to this host's loopback (web and worker hosts share one PostgreSQL and Redis).
        missing += [name for name in PRODUCTION_SETTINGS if _env(name) is None]
        if missing:
            raise ConfigError(
                "refusing to start in production: missing setting(s) " + ", ".join(missing)
                + " (see .env.example)"
            )


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def load_config(name: str | None = None) -> Config:
    """The settings object for `name`, or for the APP_ENV environment variable (default development)."""
    name = name or _env_or("APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ConfigError(f"APP_ENV must be one of {', '.join(CONFIGS)}, got {name!r}")


def child_environment(executables: Path, **settings: str) -> dict[str, str]:
    """The environment for the processes `flask serve` starts: this process's own (they read their settings
    through this module too), with `settings` on top and `executables` first on PATH."""
    return {**os.environ, **settings,
            "PATH": f"{executables}{os.pathsep}{os.environ.get('PATH', '')}"}
