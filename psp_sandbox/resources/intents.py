"""PaymentIntents and Charges, created when a buyer confirms a Checkout Session."""

from __future__ import annotations

from psp_sandbox.context import Sandbox
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import events
from psp_sandbox.store import Row


def intent_for(sb: Sandbox, session: Row) -> Row:
    """The session's PaymentIntent, created on the buyer's first confirmation (Stripe defers it until then)."""
    if session["payment_intent"]:
        found = sb.store.get(session["payment_intent"], type_="payment_intent")
        assert found is not None
        return found
    extra = session.private["intent"]
    intent_id = new_id("pi")
    intent = {
        "id": intent_id, "object": "payment_intent", "amount": session["amount_total"], "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None, "canceled_at": None,
        "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{new_id('s', 20)[2:]}", "confirmation_method": "automatic",
        "created": sb.clock.now(), "currency": session["currency"], "customer": None,
        "description": extra["description"], "invoice": None, "last_payment_error": None, "latest_charge": None,
        "livemode": False, "metadata": extra["metadata"], "next_action": None, "on_behalf_of": None,
        "payment_method": None, "payment_method_options": {},
        "payment_method_types": session["payment_method_types"], "processing": None,
        "receipt_email": session["customer_email"], "review": None, "setup_future_usage": None,
        "shipping": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None, "transfer_group": extra["transfer_group"],
    }
    row = sb.store.insert(intent, PLATFORM_ACCOUNT, {"session": session["id"]})
    session["payment_intent"] = intent_id
    sb.store.save(session)
    events.emit(sb, "payment_intent.created", row)
    return row


def new_charge(
    sb: Sandbox, intent: Row, status: str, method_details: dict, billing: dict, outcome: dict | None = None
) -> Row:
    succeeded = status == "succeeded"
    charge = {
        "id": new_id("ch"), "object": "charge", "amount": intent["amount"],
        "amount_captured": intent["amount"] if succeeded else 0, "amount_refunded": 0, "application": None,
        "application_fee": None, "application_fee_amount": None, "balance_transaction": None,
        "billing_details": {"address": None, "email": billing.get("email"), "name": billing.get("name"),
                            "phone": None},
        "calculated_statement_descriptor": "SANDBOX", "captured": succeeded, "created": sb.clock.now(),
        "currency": intent["currency"], "customer": None, "description": intent["description"],
        "disputed": False, "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "fraud_details": {}, "invoice": None, "livemode": False, "metadata": intent["metadata"],
        "on_behalf_of": None, "outcome": outcome, "paid": succeeded, "payment_intent": intent["id"],
        "payment_method": new_id("pm"), "payment_method_details": method_details,
        "receipt_email": intent["receipt_email"], "receipt_number": None, "receipt_url": None,
        "refunded": False, "review": None, "shipping": None, "source_transfer": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None, "status": status,
        "transfer_data": None, "transfer_group": intent["transfer_group"],
    }
    return sb.store.insert(charge, PLATFORM_ACCOUNT)


def card_details(brand: str, last4: str, exp_month: int, exp_year: int, funding: str, wallet: dict | None) -> dict:
    """`payment_method_details` of a card charge: brand and last four digits only, never the number."""
    return {
        "type": "card",
        "card": {
            "brand": brand, "checks": {"address_line1_check": None, "address_postal_code_check": None,
                                       "cvc_check": "pass"},
            "country": "US", "exp_month": exp_month, "exp_year": exp_year, "fingerprint": f"sbx{brand}{last4}",
            "funding": funding, "installments": None, "last4": last4, "mandate": None, "network": brand,
            "three_d_secure": None, "wallet": wallet,
        },
    }


BANK_TRANSFER_DETAILS = {"type": "customer_balance", "customer_balance": {}}

APPROVED = {
    "network_status": "approved_by_network", "reason": None, "risk_level": "normal", "risk_score": 20,
    "seller_message": "Payment complete.", "type": "authorized",
}


def declined_outcome(reason: str) -> dict:
    return {
        "network_status": "declined_by_network", "reason": reason, "risk_level": "normal", "risk_score": 20,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }

# The sandbox's one receiving account for bank transfers (a test IBAN).
TRANSFER_IBAN, TRANSFER_BIC = "DE89370400440532013000", "COBADEFFXXX"


def bank_transfer_instructions(sb: Sandbox, session: Row, intent: Row) -> dict:
    """`next_action.display_bank_transfer_instructions` of a PaymentIntent paid by bank transfer (EU)."""
    holder = session.private.get("display_name") or sb.settings.merchant_name
    return {
        "amount_remaining": intent["amount"], "currency": intent["currency"],
        "financial_addresses": [{"type": "iban", "supported_networks": ["sepa"], "iban": {
            "account_holder_name": holder, "bic": TRANSFER_BIC, "country": "DE", "iban": TRANSFER_IBAN}}],
        "hosted_instructions_url": None, "reference": session["id"][-12:].upper(), "type": "eu_bank_transfer",
    }
