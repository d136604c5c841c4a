"""Transfers from the platform to a connected account (Stripe's separate charges and transfers).

Without `source_transaction` the platform's available balance must cover the transfer. With it, the
transfer is funded by that charge: it leaves the platform's pending funds, and the connected account
receives them when the charge's funds become available.
"""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import accounts, events, ledger
from psp_sandbox.store import Row

INSUFFICIENT = (
    "You have insufficient funds in your Stripe account. One likely reason you have insufficient funds is that "
    "your funds are automatically being paid out; try enabling manual payouts."
)


def create(sb: Sandbox, params: dict) -> Row:
    amount = p.integer(params, "amount", required=True, minimum=1)
    assert amount is not None
    currency = p.currency(params)
    assert currency is not None
    destination = p.string(params, "destination", required=True) or ""
    account = sb.store.get(destination, PLATFORM_ACCOUNT, "account")
    if account is None:
        raise no_such("destination", destination, "destination")
    accounts.require_transfers(account)
    source = _source_charge(sb, params, amount, currency)
    if source is None and ledger.available(sb, PLATFORM_ACCOUNT, currency) < amount:
        raise invalid(INSUFFICIENT, code="balance_insufficient")
    available_on = _funds_date(sb, source)
    transfer_id, payment_id = new_id("tr"), new_id("py")
    sent = ledger.record(sb, PLATFORM_ACCOUNT, "transfer", -amount, currency, transfer_id, available_on=available_on)
    _destination_payment(sb, destination, payment_id, transfer_id, amount, currency, available_on)
    transfer = {
        "id": transfer_id, "object": "transfer", "amount": amount, "amount_reversed": 0,
        "balance_transaction": sent["id"], "created": sb.clock.now(), "currency": currency,
        "description": p.string(params, "description"), "destination": destination,
        "destination_payment": payment_id, "livemode": False, "metadata": p.metadata(params),
        "reversals": {"object": "list", "data": [], "has_more": False, "url": f"/v1/transfers/{transfer_id}/reversals"},
        "reversed": False, "source_transaction": source["id"] if source else None, "source_type": "card",
        "transfer_group": p.string(params, "transfer_group"),
    }
    row = sb.store.insert(transfer, PLATFORM_ACCOUNT)
    if source is not None:
        source.private["transferred"] = source.private.get("transferred", 0) + amount
        sb.store.save(source)
    events.emit(sb, "transfer.created", row)
    return row


def _source_charge(sb: Sandbox, params: dict, amount: int, currency: str) -> Row | None:
    charge_id = p.string(params, "source_transaction")
    if not charge_id:
        return None
    charge = sb.store.get(charge_id, PLATFORM_ACCOUNT, "charge")
    if charge is None:
        raise no_such("charge", charge_id, "source_transaction")
    if charge["status"] != "succeeded" or charge["currency"] != currency:
        raise invalid("The source_transaction must be a succeeded charge in the transfer's currency.",
                      "source_transaction")
    left = charge["amount"] - charge["amount_refunded"] - charge.private.get("transferred", 0)
    if amount > left:
        raise invalid(f"Transfer amount ({amount}) exceeds what is left of charge {charge_id} ({left}).",
                      "amount", "amount_too_large")
    return charge


def _funds_date(sb: Sandbox, source: Row | None) -> int | None:
    if source is None:
        return None
    funds = sb.store.get(source["balance_transaction"], type_="balance_transaction")
    return funds["available_on"] if funds else None


def _destination_payment(
    sb: Sandbox, account: str, payment_id: str, transfer_id: str, amount: int, currency: str, available_on: int | None
) -> None:
    """The `py_` charge on the connected account that the transfer creates, and its balance transaction."""
    received = ledger.record(sb, account, "payment", amount, currency, payment_id, available_on=available_on)
    now = sb.clock.now()
    payment = {
        "id": payment_id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
        "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": received["id"],
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "captured": True, "created": now, "currency": currency, "description": None, "disputed": False,
        "failure_code": None, "failure_message": None, "fraud_details": {}, "livemode": False, "metadata": {},
        "outcome": None, "paid": True, "payment_intent": None, "payment_method": None,
        "payment_method_details": {"type": "stripe_account", "stripe_account": {}}, "refunded": False,
        "source_transfer": transfer_id, "status": "succeeded",
    }
    sb.store.insert(payment, account)
