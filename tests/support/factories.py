"""Small builders for the records tests need, through the real services."""

from __future__ import annotations

import secrets

from webapp.domain.sellers import NewSeller
from webapp.services import accounts, api_keys, sellers

PASSWORD = "correct horse battery staple"
IBANS = ["DE89370400440532013000", "NL91ABNA0417164300", "GB82WEST12345698765432",
         "FR1420041010050500013M02606"]


def merchant(name: str | None = None, email: str | None = None):
    suffix = secrets.token_hex(3)
    return accounts.create_merchant(name or f"Shop {suffix}", email or f"owner-{suffix}@shop.example.com",
                                    PASSWORD)


def seller(merchant, index: int = 0, currency: str = "USD", name: str | None = None):
    return sellers.create(merchant, NewSeller.basic(name or f"Seller {index}", IBANS[index], currency))


def api_key(merchant, name: str = "test key") -> str:
    return api_keys.create(merchant, name).secret


def admin(email: str = "admin@platform.example.com"):
    return accounts.create_admin(email, PASSWORD)
