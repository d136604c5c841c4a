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
from urllib.parse import urlsplit

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


def _psp_checkout_origin(api_base: str) -> str:
    parts = urlsplit(api_base)
    if parts.hostname == "api.stripe.com":
        return "https://checkout.stripe.com"
    return f"{parts.scheme}://{parts.netloc}"


class Config:
    """Settings shared by every environment. Values come from the environment; see .env.example."""

    ENV_NAME = "base"
    TESTING = False
    DEBUG = False

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY")
        self.DATA_ENCRYPTION_KEY = _env("DATA_ENCRYPTION_KEY")
        # Key of the hashes that find buyers' emails without decrypting them (default: the first DATA_ENCRYPTION_KEY).
        self.LOOKUP_HASH_KEY = _env("LOOKUP_HASH_KEY")
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(
            _env_or("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'gateway.db'}")
        )
        # No ping on every checkout (it cost as much database wait as a payment's INSERT): webapp/dbengine.py pings
        # only a connection that sat idle in the pool, and connections are replaced after DB_POOL_RECYCLE_SECONDS.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": _int("DB_POOL_RECYCLE_SECONDS", 1800)}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # Connections kept open per process, and opened beyond them under load (closed again when returned).
            # Overflow connections are a new PostgreSQL session each time: with a web worker's threads beyond the
            # kept ones, connecting was ~3% of a webhook's CPU (py-spy), so more are kept (the same 15 at most).
            self.SQLALCHEMY_ENGINE_OPTIONS.update(pool_size=_int("DB_POOL_SIZE", 10),
                                                  max_overflow=_int("DB_POOL_OVERFLOW", 5))
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
        # PSP events that fail to apply: attempts (with the outbox's backoff) before one goes to the dead letters.
        self.INBOX_MAX_ATTEMPTS = _int("INBOX_MAX_ATTEMPTS", 5)
        # A worker's claim on a batch; rows of a worker that died become claimable again after this.
        self.OUTBOX_LEASE_SECONDS = _int("OUTBOX_LEASE_SECONDS", 30)
        # The sweeper asks the PSP about checkouts with no news for this long.
        self.PSP_SYNC_AFTER_SECONDS = _int("PSP_SYNC_AFTER_SECONDS", 300)
        # A checkout that stays quiet is polled less and less often, at most this far apart (a buyer who left
        # keeps the PSP's session open for a day).
        self.PSP_SYNC_MAX_INTERVAL_SECONDS = _int("PSP_SYNC_MAX_INTERVAL_SECONDS", 3600)
        # Payouts: the daily run's time (UTC, HH:MM), and polling the PSP for payouts with no news for this long.
        self.PAYOUT_RUN_AT = _env_or("PAYOUT_RUN_AT", "06:00")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", self.PAYOUT_RUN_AT):
            raise ConfigError(f"PAYOUT_RUN_AT must be HH:MM (UTC), got {self.PAYOUT_RUN_AT!r}")
        self.PAYOUT_SYNC_AFTER_SECONDS = _int("PAYOUT_SYNC_AFTER_SECONDS", 3600)
        # …and a payout in transit (days at the bank) at most this far apart.
        self.PAYOUT_SYNC_MAX_INTERVAL_SECONDS = _int("PAYOUT_SYNC_MAX_INTERVAL_SECONDS", 6 * 3600)
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
        # Logs: json (one object per line), console (for people), auto (console on a terminal, else json).
        self.LOG_FORMAT = _env_or("LOG_FORMAT", "auto")
        if self.LOG_FORMAT not in ("auto", "json", "console"):
            raise ConfigError(f"LOG_FORMAT must be auto, json or console, got {self.LOG_FORMAT!r}")
        self.LOG_LEVEL = _env_or("LOG_LEVEL", "INFO").upper()
        # Prometheus metrics at /metrics. Counting is on unless METRICS_ENABLED is false. With METRICS_TOKEN set,
        # a scrape must send `Authorization: Bearer <token>`; without one, /metrics answers only where
        # METRICS_PUBLIC is on (development and test), and production serves it on an internal port instead
        # (`flask metrics serve`, METRICS_HOST:METRICS_PORT).
        self.METRICS_ENABLED = _bool("METRICS_ENABLED", True)
        self.METRICS_TOKEN = _env("METRICS_TOKEN")
        self.METRICS_PUBLIC = _bool("METRICS_PUBLIC", True)
        self.METRICS_HOST = _env_or("METRICS_HOST", "127.0.0.1")
        self.METRICS_PORT = _int("METRICS_PORT", 9464)
        # Where the processes of one host share their metrics (prometheus-client's multiprocess mode); `flask
        # serve` and the test launchers set it and empty it at start. Unset: each process counts alone.
        self.PROMETHEUS_MULTIPROC_DIR = _env("PROMETHEUS_MULTIPROC_DIR")
        # The scheduled `ledger verify` (UTC, HH:MM, daily); its result feeds paysplit_ledger_verify_ok.
        self.LEDGER_VERIFY_AT = _env_or("LEDGER_VERIFY_AT", "03:30")
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", self.LEDGER_VERIFY_AT):
            raise ConfigError(f"LEDGER_VERIFY_AT must be HH:MM (UTC), got {self.LEDGER_VERIFY_AT!r}")
        # A failed check is repeated after this many seconds; only checks failing both times count (money in flight).
        self.LEDGER_VERIFY_RECHECK_SECONDS = _int("LEDGER_VERIFY_RECHECK_SECONDS", 60)
        # Sessions end on the server after this many minutes without a request (webapp/auth/sessions.py).
        self.SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
        # Admins must enrol a TOTP second factor before using the admin area (default: on in production).
        self.ADMIN_TWO_FACTOR_REQUIRED = _bool("ADMIN_TWO_FACTOR_REQUIRED", False)
        # Security headers (flask-talisman): redirect http to https and send HSTS (default: on in production).
        self.FORCE_HTTPS = _bool("FORCE_HTTPS", False)
        self.HSTS_MAX_AGE_SECONDS = _int("HSTS_MAX_AGE_SECONDS", 365 * 24 * 3600)
        # Where the checkout form may send the buyer (Content-Security-Policy form-action): the PSP's hosted
        # payment page. Default: Stripe Checkout for api.stripe.com, else the origin of STRIPE_API_BASE.
        self.PSP_CHECKOUT_ORIGIN = _env("PSP_CHECKOUT_ORIGIN") or _psp_checkout_origin(self.STRIPE_API_BASE or "")
        # Wrong second-factor codes allowed per account (Flask-Limiter syntax), on top of LOGIN_RATE_LIMIT per address.
        self.TWO_FACTOR_RATE_LIMIT = _env_or("TWO_FACTOR_RATE_LIMIT", "10 per hour")
        # The issuer name authenticator apps show next to a TOTP code.
        self.TOTP_ISSUER = _env_or("TOTP_ISSUER", "Paysplit")
        # An API key's "last used" is written at most once per this many seconds per process (not per request).
        self.API_KEY_LAST_USED_INTERVAL_SECONDS = _int("API_KEY_LAST_USED_INTERVAL_SECONDS", 300)
        # A checkout left on the payment provider's page this long shows as "Abandoned" in the portal.
        self.CHECKOUT_ABANDONED_AFTER_SECONDS = _int("CHECKOUT_ABANDONED_AFTER_SECONDS", 3600)
        # Webhooks to merchants (docs/webhooks.md). Production requires https and refuses loopback receivers;
        # development and tests allow both so `make run` can deliver to a receiver on the same machine.
        production = self.ENV_NAME == "production"
        self.WEBHOOK_REQUIRE_HTTPS = _bool("WEBHOOK_REQUIRE_HTTPS", production)
        self.WEBHOOK_ALLOW_LOOPBACK = _bool("WEBHOOK_ALLOW_LOOPBACK", not production)
        self.WEBHOOK_TIMEOUT_SECONDS = float(_env_or("WEBHOOK_TIMEOUT_SECONDS", "5"))
        self.WEBHOOK_CONNECT_TIMEOUT_SECONDS = float(_env_or("WEBHOOK_CONNECT_TIMEOUT_SECONDS", "3"))
        self.WEBHOOK_RESPONSE_LIMIT_BYTES = _int("WEBHOOK_RESPONSE_LIMIT_BYTES", 2048)
        self.WEBHOOK_CONCURRENCY = _int("WEBHOOK_CONCURRENCY", 32)
        self.WEBHOOK_ENDPOINT_CONCURRENCY = _int("WEBHOOK_ENDPOINT_CONCURRENCY", 8)
        # Multiplies the retry schedule (about three days); tests compress it.
        self.WEBHOOK_RETRY_SCALE = float(_env_or("WEBHOOK_RETRY_SCALE", "1"))
        self.WEBHOOK_SECRET_OVERLAP_SECONDS = _int("WEBHOOK_SECRET_OVERLAP_SECONDS", 24 * 3600)

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
        self.METRICS_PUBLIC = _bool("METRICS_PUBLIC", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.ADMIN_TWO_FACTOR_REQUIRED = _bool("ADMIN_TWO_FACTOR_REQUIRED", True)
        self.FORCE_HTTPS = _bool("FORCE_HTTPS", True)
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


def log_settings() -> tuple[str, str]:
    """LOG_FORMAT and LOG_LEVEL for code that logs before there is an app (gunicorn's master process)."""
    return _env_or("LOG_FORMAT", "auto"), _env_or("LOG_LEVEL", "INFO").upper()


def child_environment(executables: Path, **settings: str) -> dict[str, str]:
    """The environment for the processes `flask serve` starts: this process's own (they read their settings
    through this module too), with `settings` on top and `executables` first on PATH."""
    return {**os.environ, **settings,
            "PATH": f"{executables}{os.pathsep}{os.environ.get('PATH', '')}"}
