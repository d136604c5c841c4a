import pytest

from config import ConfigError, load_config, normalize_database_url


def test_production_refuses_to_start_naming_each_missing_secret(monkeypatch):
    for name in ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "DATABASE_URL",
                 "REDIS_URL", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    with pytest.raises(ConfigError) as info:
        load_config("production")
    message = str(info.value)
    for name in ("DATA_ENCRYPTION_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "DATABASE_URL", "REDIS_URL",
                 "PUBLIC_BASE_URL"):
        assert name in message
    assert "SECRET_KEY," not in message


def test_production_starts_with_every_secret_and_secure_cookies(monkeypatch):
    for name in ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, "value-" + name)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/gw")
    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6379/0")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://pay.example.com")
    config = load_config("production")
    assert config.SESSION_COOKIE_SECURE is True
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/gw"


def test_development_generates_secrets_once_per_install(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first, second = load_config("development"), load_config("development")
    assert first.SECRET_KEY and first.SECRET_KEY == second.SECRET_KEY
    assert first.STRIPE_WEBHOOK_SECRET.startswith("whsec_")
    assert first.STRIPE_API_BASE == "http://127.0.0.1:12111"


def test_unknown_environment_name_is_an_error():
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config("staging")


def test_bad_integer_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "many")
    with pytest.raises(ConfigError, match="STRIPE_MAX_NETWORK_RETRIES"):
        load_config("development")


@pytest.mark.parametrize(("raw", "expected"), [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"), ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"), ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
])
def test_database_urls_use_psycopg3(raw, expected):
    assert normalize_database_url(raw) == expected


def test_production_requires_admin_two_factor_and_https(monkeypatch):
    for name in ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, "value-" + name)
    for name, value in (("DATABASE_URL", "postgresql://u@db/gw"), ("REDIS_URL", "redis://r:6379/0"),
                        ("PUBLIC_BASE_URL", "https://pay.example.com")):
        monkeypatch.setenv(name, value)
    production, development = load_config("production"), load_config("development")
    assert production.ADMIN_TWO_FACTOR_REQUIRED is True and production.FORCE_HTTPS is True
    assert development.ADMIN_TWO_FACTOR_REQUIRED is False and development.FORCE_HTTPS is False
    assert development.SESSION_IDLE_MINUTES == 30
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "5")
    assert load_config("development").SESSION_IDLE_MINUTES == 5


def test_production_reads_no_file_under_the_instance_folder(monkeypatch, tmp_path):
    """Secrets come from the environment only: a production host never creates or reads dev-secrets.json."""
    import config as settings

    for name in ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, "value-" + name)
    for name, value in (("DATABASE_URL", "postgresql://u@db/gw"), ("REDIS_URL", "redis://r:6379/0"),
                        ("PUBLIC_BASE_URL", "https://pay.example.com")):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path / "instance")
    config = load_config("production")
    assert config.SECRET_KEY == "value-SECRET_KEY"
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize("value", ["http://live.example.com", "ws://live.example.com/ws", "live.example.com",
                                   "wss://", "ws://live example.com"])
def test_live_url_must_be_a_websocket_origin(monkeypatch, value):
    monkeypatch.setenv("LIVE_URL", value)
    with pytest.raises(ConfigError, match="LIVE_URL"):
        load_config("test")


@pytest.mark.parametrize("value", ["ws://127.0.0.1:5001", "wss://live.example.com", "wss://live.example.com/"])
def test_live_url_takes_an_origin(monkeypatch, value):
    monkeypatch.setenv("LIVE_URL", value)
    configured = load_config("test").LIVE_URL
    assert configured == value.rstrip("/")


def test_make_run_points_pages_at_its_live_server():
    from webapp.cli.serve import live_url_for

    assert live_url_for("", "http://127.0.0.1:5000", 5001) == "ws://127.0.0.1:5001"
    assert live_url_for("", "https://pay.example.com", 8443) == "wss://pay.example.com:8443"
    assert live_url_for("wss://live.example.com", "http://127.0.0.1:5000", 5001) == "wss://live.example.com"
