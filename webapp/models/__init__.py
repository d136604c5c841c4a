"""Database tables: records and constraints, no business rules."""

from webapp.models.accounts import Merchant, User
from webapp.models.api_keys import ApiKey
from webapp.models.sellers import SellerAccount

__all__ = ["ApiKey", "Merchant", "SellerAccount", "User"]
