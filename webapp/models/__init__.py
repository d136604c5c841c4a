"""Database tables: records and constraints, no business rules."""

from webapp.models.accounts import Merchant, User
from webapp.models.api_keys import ApiKey
from webapp.models.infrastructure import IdempotencyKey, OutboxMessage, PspEvent
from webapp.models.payments import PaymentActivity, PaymentEvent, PaymentOrder, PspSession
from webapp.models.sellers import SellerAccount

__all__ = ["ApiKey", "IdempotencyKey", "Merchant", "OutboxMessage", "PaymentActivity", "PaymentEvent", "PaymentOrder",
           "PspEvent", "PspSession", "SellerAccount", "User"]
