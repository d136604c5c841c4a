"""The demo data set `make run` starts with: an admin, a marketplace with two sellers, and an API key.

Idempotent: running it again keeps what exists and the credentials already written to
`instance/demo.env`; passwords are random per install, never fixed defaults.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from webapp.domain.sellers import NewSeller
from webapp.extensions import db
from webapp.models import Merchant, SellerAccount, User
from webapp.services import accounts, api_keys, sellers
from webapp.services.passwords import hash_password, verify_password

ADMIN_EMAIL = "admin@paysplit.example.com"
MERCHANT_NAME = "Demo Marketplace"
MERCHANT_EMAIL = "owner@demo-marketplace.example.com"
SELLERS = (("Aurora Ceramics", "DE89370400440532013000"), ("Nordic Knitwear", "NL91ABNA0417164300"))


@dataclass(frozen=True)
class DemoCredentials:
    admin_email: str
    admin_password: str
    merchant_email: str
    merchant_password: str
    api_key: str
    seller_ids: list[str]
    web_url: str

    def as_env(self) -> str:
        lines = {
            "DEMO_ADMIN_EMAIL": self.admin_email, "DEMO_ADMIN_PASSWORD": self.admin_password,
            "DEMO_MERCHANT_EMAIL": self.merchant_email, "DEMO_MERCHANT_PASSWORD": self.merchant_password,
            "DEMO_API_KEY": self.api_key, "DEMO_SELLER_ACCOUNTS": ",".join(self.seller_ids),
            "WEB_URL": self.web_url,
        }
        return "".join(f"{name}={value}\n" for name, value in lines.items())


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def _ensure_password(user: User, remembered: str | None) -> str:
    """Keep the remembered password when it still works; otherwise set a fresh random one."""
    if remembered and verify_password(user.password_hash, remembered):
        return remembered
    password = secrets.token_urlsafe(12)
    user.password_hash = hash_password(password)
    db.session.commit()
    return password


def _ensure_user(email: str, remembered: str | None, create) -> str:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        password = remembered or secrets.token_urlsafe(12)
        create(password)
        return password
    return _ensure_password(user, remembered)


def seed(env_path: Path, web_url: str) -> DemoCredentials:
    """Create whatever part of the demo is missing and write its credentials to `env_path`."""
    previous = read_env_file(env_path)
    admin_password = _ensure_user(ADMIN_EMAIL, previous.get("DEMO_ADMIN_PASSWORD"),
                                  lambda pw: accounts.create_admin(ADMIN_EMAIL, pw))
    merchant_password = _ensure_user(
        MERCHANT_EMAIL, previous.get("DEMO_MERCHANT_PASSWORD"),
        lambda pw: accounts.create_merchant(MERCHANT_NAME, MERCHANT_EMAIL, pw))
    merchant = db.session.scalar(select(Merchant).where(Merchant.name == MERCHANT_NAME))
    assert merchant is not None
    seller_ids = []
    for name, iban in SELLERS:
        seller = db.session.scalar(select(SellerAccount).where(
            SellerAccount.merchant_id == merchant.id, SellerAccount.iban == iban))
        seller = seller or sellers.create(merchant, NewSeller.basic(name, iban, "USD"))
        seller_ids.append(seller.id)
    key = previous.get("DEMO_API_KEY", "")
    existing = api_keys.authenticate(key) if key else None
    if existing is None or existing.merchant_id != merchant.id:
        key = api_keys.create(merchant, "Demo storefront").secret
    credentials = DemoCredentials(ADMIN_EMAIL, admin_password, MERCHANT_EMAIL, merchant_password, key,
                                  seller_ids, web_url)
    env_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = env_path.with_suffix(".tmp")
    tmp.write_text("# Demo logins written by `flask --app wsgi demo seed`; random per install.\n"
                   + credentials.as_env())
    tmp.chmod(0o600)
    tmp.replace(env_path)
    return credentials


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    seller_index: int  # which of SELLERS sells it
    price: str  # USD, decimal string as the API takes it


CATALOGUE = (
    Product("mug-aurora", "Speckled stoneware mug", 0, "24.00"),
    Product("bowl-aurora", "Hand-thrown ramen bowl", 0, "38.50"),
    Product("vase-aurora", "Bud vase, celadon glaze", 0, "19.90"),
    Product("scarf-nordic", "Merino wool scarf", 1, "59.00"),
    Product("mittens-nordic", "Fair Isle mittens", 1, "32.00"),
    Product("beanie-nordic", "Ribbed beanie", 1, "27.50"),
)
