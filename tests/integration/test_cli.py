"""The command-line interface, run through Flask's CLI runner against the real database."""

from pathlib import Path

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import ApiKey, Merchant, SellerAccount, User
from webapp.services import api_keys
from webapp.services.demo import read_env_file
from webapp.services.passwords import verify_password


def test_create_admin_merchant_seller_and_key(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "--email", "root@platform.example.com",
                                 "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["merchants", "create", "--name", "Shop One", "--email", "one@shop.example.com",
                                 "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["sellers", "add", "--merchant", "Shop One", "--name", "Potter",
                                 "--iban", "DE89370400440532013000", "--currency", "eur"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["api-keys", "create", "--merchant", "Shop One"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert api_keys.authenticate(secret) is not None
    assert db.session.scalar(select(SellerAccount.currency)) == "EUR"


def test_cli_refuses_short_passwords_and_bad_ibans_with_a_message(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "--email", "root@platform.example.com",
                                 "--password", "short"])
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    runner.invoke(args=["merchants", "create", "--name", "Shop", "--email", "s@shop.example.com",
                        "--password", "a long enough password"])
    result = runner.invoke(args=["sellers", "add", "--merchant", "Shop", "--name", "X", "--iban", "NOPE"])
    assert result.exit_code != 0 and "Invalid IBAN" in result.output
    result = runner.invoke(args=["sellers", "add", "--merchant", "Missing", "--name", "X",
                                 "--iban", "DE89370400440532013000"])
    assert result.exit_code != 0 and "No merchant" in result.output


def test_demo_seed_is_idempotent_and_writes_working_logins(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    env = read_env_file(Path(app.instance_path) / "demo.env")
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert read_env_file(Path(app.instance_path) / "demo.env") == env
    assert db.session.scalar(select(func.count()).select_from(Merchant)) == 1
    assert db.session.scalar(select(func.count()).select_from(SellerAccount)) == 2
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 1
    admin = db.session.scalar(select(User).where(User.email == env["DEMO_ADMIN_EMAIL"]))
    owner = db.session.scalar(select(User).where(User.email == env["DEMO_MERCHANT_EMAIL"]))
    assert verify_password(admin.password_hash, env["DEMO_ADMIN_PASSWORD"])
    assert verify_password(owner.password_hash, env["DEMO_MERCHANT_PASSWORD"])
    assert api_keys.authenticate(env["DEMO_API_KEY"]).merchant_id == owner.merchant_id
    assert set(env["DEMO_SELLER_ACCOUNTS"].split(",")) == set(db.session.scalars(select(SellerAccount.id)))
    assert env["WEB_URL"].startswith("http")
    assert len(env["DEMO_ADMIN_PASSWORD"]) >= 12
