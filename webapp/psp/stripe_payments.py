"""Reading Stripe's charges and PaymentIntents into the port's types: how the buyer tried to pay
(SessionPayments), and the funds a succeeded charge brought (ChargeFunds).

Only the card's brand and last four digits are read; Stripe never returns the number.
"""

from __future__ import annotations

from typing import Any

from webapp.psp import PspRejected, PspUnavailable
from webapp.psp.types import (
    BankTransferInstructions,
    ChargeFunds,
    PaymentMethodKind,
    PaymentTry,
    SessionPayments,
    TryResult,
)

_RESULTS = {"succeeded": TryResult.SUCCEEDED, "pending": TryResult.PENDING, "failed": TryResult.DECLINED}


def _method(details: dict[str, Any]) -> tuple[PaymentMethodKind, str | None, str | None]:
    kind = details.get("type")
    if kind == "card":
        card = details.get("card") or {}
        wallet = card.get("wallet")
        return (PaymentMethodKind.WALLET if wallet else PaymentMethodKind.CARD), card.get("brand"), card.get("last4")
    if kind in ("customer_balance", "sepa_credit_transfer"):
        return PaymentMethodKind.BANK_TRANSFER, None, None
    return PaymentMethodKind.OTHER, None, None


def payment_try(charge: dict[str, Any]) -> PaymentTry:
    method, brand, last4 = _method(charge.get("payment_method_details") or {})
    result = _RESULTS.get(charge["status"], TryResult.PENDING)
    reason = None
    if result is TryResult.DECLINED:
        outcome = charge.get("outcome") or {}
        reason = charge.get("failure_message") or outcome.get("seller_message") or charge.get("failure_code")
    return PaymentTry(method, brand, last4, result, reason, int(charge["created"]))


def bank_transfer(intent: dict[str, Any]) -> BankTransferInstructions | None:
    action = intent.get("next_action") or {}
    shown = action.get("display_bank_transfer_instructions")
    if action.get("type") != "display_bank_transfer_instructions" or not shown:
        return None
    iban = next((a["iban"] for a in shown.get("financial_addresses") or [] if a.get("type") == "iban"), None)
    if iban is None:
        return None
    return BankTransferInstructions(
        amount=int(shown.get("amount_remaining") or intent["amount"]), currency=str(shown["currency"]).upper(),
        iban=iban["iban"], bic=iban.get("bic"), account_holder=iban.get("account_holder_name"),
        reference=shown["reference"])


def session_payments(session_id: str, intent: dict[str, Any], charges: list[dict[str, Any]]) -> SessionPayments:
    # Stripe lists newest first; reversed, then a stable sort, keeps tries made in the same second in order.
    tries = tuple(sorted((payment_try(c) for c in reversed(charges)), key=lambda t: t.created))
    return SessionPayments(session_id, tries, bank_transfer(intent))


def charge_funds(payment_intent_id: str, intent: dict[str, Any]) -> ChargeFunds:
    """The funds of a PaymentIntent's succeeded charge, from its expanded latest charge and balance transaction."""
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict) or charge.get("status") != "succeeded":
        raise PspRejected(f"PaymentIntent {payment_intent_id} has no succeeded charge")
    transaction = charge.get("balance_transaction")
    if not isinstance(transaction, dict):
        # Stripe can attach the balance transaction a moment after the charge succeeded: ask again later.
        raise PspUnavailable(f"charge {charge['id']} has no balance transaction yet")
    return ChargeFunds(
        charge_id=charge["id"],
        payment_intent_id=payment_intent_id,
        amount=int(charge["amount"]),
        currency=str(charge["currency"]).upper(),
        balance_transaction_id=transaction.get("id"),
        fee=int(transaction.get("fee") or 0),
        net=int(transaction["net"]),
        available_on=int(transaction["available_on"]),
        available=transaction.get("status") == "available",
    )
