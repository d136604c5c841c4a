"""Database tables: records and constraints, no business rules."""

from webapp.models.accounts import Merchant, RecoveryCode, User
from webapp.models.api_keys import ApiKey
from webapp.models.audit import AuditEntry
from webapp.models.infrastructure import IdempotencyKey, OutboxMessage, PspEvent
from webapp.models.ledger import LedgerAccount, LedgerEntry, LedgerPosting, OrderFunds, PspAvailability, PspCharge
from webapp.models.operations import LedgerVerification
from webapp.models.payments import PaymentActivity, PaymentEvent, PaymentOrder, PspSession
from webapp.models.payouts import Payout, PayoutItem
from webapp.models.recon_uploads import ReconUpload
from webapp.models.reconciliation import (
    ReconAction,
    ReconImport,
    ReconMismatch,
    ReconOurs,
    ReconRow,
    ReconRun,
    ReconRunImport,
)
from webapp.models.refunds import Refund
from webapp.models.sellers import SellerAccount
from webapp.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = ["ApiKey", "IdempotencyKey", "LedgerAccount", "LedgerEntry", "LedgerPosting", "LedgerVerification",
           "Merchant", "OrderFunds",
           "OutboxMessage", "PaymentActivity", "PaymentEvent", "PaymentOrder", "Payout", "PayoutItem",
           "PspAvailability", "PspCharge", "PspEvent", "PspSession", "ReconAction", "ReconImport",
           "ReconMismatch", "ReconOurs", "ReconRow", "ReconRun", "ReconRunImport", "ReconUpload", "RecoveryCode",
           "Refund", "SellerAccount", "User",
           "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]
__all__ += ["AuditEntry"]
