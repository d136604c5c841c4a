"""Reading Stripe's charges and PaymentIntents into the port's SessionPayments: how the buyer tried to pay.

Only the card's brand and last four digits are read; Stripe never returns the number.
"""

from __future__ import annotations

from typing import Any

from webapp.psp.types import BankTransferInstructions, PaymentMethodKind, PaymentTry, SessionPayments, TryResult

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
