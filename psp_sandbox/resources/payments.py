"""A buyer paying a Checkout Session: by card (with 3-D Secure and declines), wallet or bank transfer.

Used by the hosted payment page and by the `/_sandbox/` test helper alike, so that load tests take the
same path as a person. Each function runs inside a write transaction opened by its caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from psp_sandbox.cards import CardDetails
from psp_sandbox.context import Sandbox
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.resources import events, intents, ledger, sessions
from psp_sandbox.store import Row

AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment method and try again."
)


@dataclass
class Outcome:
    """What the buyer sees next: `succeeded`, `processing` (bank transfer), `requires_action` (3-D Secure),
    `declined`, or `closed` (the session can no longer be paid)."""

    status: str
    session: Row
    message: str | None = None
    field_errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Buyer:
    email: str | None
    name: str | None


def open_session(sb: Sandbox, session_id: str) -> tuple[Row, Outcome | None]:
    session = sessions.get(sb, session_id)
    if session["status"] == "open" and session["expires_at"] <= sb.clock.now():
        sessions.expire(sb, session_id)
    if session["status"] != "open":
        return session, Outcome("closed", session)
    return session, None


def pay_card(sb: Sandbox, session_id: str, card: CardDetails, buyer: Buyer) -> Outcome:
    session, closed = open_session(sb, session_id)
    if closed:
        return closed
    intent = intents.intent_for(sb, session)
    behaviour = card.behaviour
    pending = {
        "brand": card.brand, "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year,
        "funding": behaviour.funding, "available_now": behaviour.available_now,
        "refund_fails": behaviour.refund_fails, "email": buyer.email, "name": buyer.name,
        "decline": behaviour.decline.__dict__ if behaviour.decline else None,
    }
    if behaviour.three_d_secure:
        return _require_action(sb, session, intent, pending)
    return _charge_card(sb, session, intent, pending)


def authenticate(sb: Sandbox, session_id: str, passed: bool) -> Outcome:
    """The buyer's answer on the 3-D Secure challenge page."""
    session, closed = open_session(sb, session_id)
    if closed:
        return closed
    intent = intents.intent_for(sb, session)
    pending = intent.private.pop("pending_card", None)
    if intent["status"] != "requires_action" or pending is None:
        return Outcome("declined", session, "This payment needs no authentication; please pay again.")
    intent["next_action"] = None
    if passed:
        return _charge_card(sb, session, intent, pending)
    error = {"type": "invalid_request_error", "code": "payment_intent_authentication_failure",
             "message": AUTHENTICATION_FAILED}
    intent.update(status="requires_payment_method", last_payment_error=error)
    sb.store.save(intent)
    events.emit(sb, "payment_intent.payment_failed", intent)
    return Outcome("declined", session, AUTHENTICATION_FAILED)


def pay_wallet(sb: Sandbox, session_id: str, buyer: Buyer) -> Outcome:
    session, closed = open_session(sb, session_id)
    if closed:
        return closed
    intent = intents.intent_for(sb, session)
    wallet = {"type": "google_pay", "dynamic_last4": "4242", "google_pay": {}}
    details = intents.card_details("visa", "4242", 12, 2034, "credit", wallet)
    charge = intents.new_charge(sb, intent, "succeeded", details, buyer.__dict__, intents.APPROVED)
    _succeed(sb, intent, charge, available_now=False)
    sessions.complete(sb, session, "paid", buyer.email, buyer.name)
    return Outcome("succeeded", session)


def pay_bank_transfer(sb: Sandbox, session_id: str, buyer: Buyer) -> Outcome:
    """Completes the session unpaid; the transfer settles (or fails) when the clock passes the delay."""
    session, closed = open_session(sb, session_id)
    if closed:
        return closed
    intent = intents.intent_for(sb, session)
    charge = intents.new_charge(sb, intent, "pending", intents.BANK_TRANSFER_DETAILS, buyer.__dict__)
    instructions = intents.bank_transfer_instructions(sb, session, intent)
    session.private["bank_transfer"] = instructions
    intent.update(status="processing", latest_charge=charge["id"], payment_method=charge["payment_method"],
                  last_payment_error=None, next_action={"type": "display_bank_transfer_instructions",
                                                         "display_bank_transfer_instructions": instructions})
    sb.store.save(intent)
    session.private["bank_transfer_email"] = buyer.email or ""
    events.emit(sb, "payment_intent.processing", intent)
    events.emit(sb, "charge.pending", charge)
    sessions.complete(sb, session, "unpaid", buyer.email, buyer.name)
    sb.store.add_timer(sb.clock.now() + sb.settings.bank_transfer_delay, "bank_transfer_settles", session_id)
    return Outcome("processing", session)


def settle_bank_transfer(sb: Sandbox, session_id: str) -> None:
    """`+fail` in the buyer's email makes the transfer fail, like Stripe's test emails for delayed methods."""
    session = sessions.get(sb, session_id)
    intent = intents.intent_for(sb, session)
    charge = sb.store.get(intent["latest_charge"], type_="charge")
    if charge is None or intent["status"] != "processing":
        return
    if "+fail" in session.private.get("bank_transfer_email", ""):
        charge.update(status="failed", failure_code="insufficient_funds",
                      failure_message="The customer's bank transfer did not arrive.")
        sb.store.save(charge)
        error = {"type": "invalid_request_error", "code": "payment_method_provider_decline",
                 "message": "The customer's bank transfer did not arrive."}
        intent.update(status="requires_payment_method", last_payment_error=error)
        sb.store.save(intent)
        events.emit(sb, "charge.failed", charge, previous={"status": "pending"})
        events.emit(sb, "payment_intent.payment_failed", intent)
        events.emit(sb, "checkout.session.async_payment_failed", session)
        return
    charge.update(status="succeeded", paid=True, captured=True, amount_captured=charge["amount"],
                  outcome=intents.APPROVED)
    intent["next_action"] = None
    _succeed(sb, intent, charge, available_now=False)
    session["payment_status"] = "paid"
    sb.store.save(session)
    events.emit(sb, "checkout.session.async_payment_succeeded", session)


def _require_action(sb: Sandbox, session: Row, intent: Row, pending: dict) -> Outcome:
    page = session["url"] or ""
    intent.private["pending_card"] = pending
    intent.update(status="requires_action", last_payment_error=None, next_action={
        "type": "redirect_to_url",
        "redirect_to_url": {"return_url": page, "url": f"{page}/3ds"},
    })
    sb.store.save(intent)
    events.emit(sb, "payment_intent.requires_action", intent)
    return Outcome("requires_action", session)


def _charge_card(sb: Sandbox, session: Row, intent: Row, pending: dict) -> Outcome:
    details = intents.card_details(pending["brand"], pending["last4"], pending["exp_month"], pending["exp_year"],
                                   pending["funding"], None)
    buyer = {"email": pending["email"], "name": pending["name"]}
    decline = pending["decline"]
    if decline:
        charge = intents.new_charge(sb, intent, "failed", details, buyer,
                                    intents.declined_outcome(decline["decline_code"]))
        charge.update(failure_code=decline["code"], failure_message=decline["message"])
        sb.store.save(charge)
        error = {"type": "card_error", "charge": charge["id"], **decline}
        intent.update(status="requires_payment_method", last_payment_error=error, latest_charge=charge["id"],
                      payment_method=charge["payment_method"])
        sb.store.save(intent)
        events.emit(sb, "charge.failed", charge)
        events.emit(sb, "payment_intent.payment_failed", intent)
        return Outcome("declined", session, decline["message"])
    charge = intents.new_charge(sb, intent, "succeeded", details, buyer, intents.APPROVED)
    charge.private["refund_fails"] = pending["refund_fails"]
    _succeed(sb, intent, charge, available_now=pending["available_now"])
    sessions.complete(sb, session, "paid", pending["email"], pending["name"])
    return Outcome("succeeded", session)


def _succeed(sb: Sandbox, intent: Row, charge: Row, available_now: bool) -> None:
    """Book the charge on the platform balance (net of the fee, pending until available) and finish the intent."""
    now = sb.clock.now()
    available_on = now if available_now else now + sb.settings.available_delay
    amount = charge["amount"]
    transaction = ledger.record(sb, PLATFORM_ACCOUNT, "charge", amount, charge["currency"], charge["id"],
                                fee=sb.settings.fee(amount), available_on=available_on)
    charge["balance_transaction"] = transaction["id"]
    sb.store.save(charge)
    intent.update(status="succeeded", amount_received=amount, latest_charge=charge["id"],
                  payment_method=charge["payment_method"], last_payment_error=None, next_action=None)
    sb.store.save(intent)
    events.emit(sb, "charge.succeeded", charge)
    events.emit(sb, "payment_intent.succeeded", intent)
