"""Connect accounts (the platform's sellers) with a bank account for payouts, given as an IBAN.

Payouts to these test IBANs fail, modelled on Stripe's SEPA test numbers; every other valid IBAN is
paid. Only the IBAN's last four digits and this outcome are kept.
"""

from __future__ import annotations

import re

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.store import Row

PAYOUT_FAILURES = {
    "DE62370400440532013001": ("no_account", "The bank account details on file are probably incorrect. No bank "
                               "account could be located with those details."),
    "DE35370400440532013002": ("account_closed", "The bank account has been closed."),
    "DE08370400440532013003": ("insufficient_funds", "Your Stripe account has insufficient funds to cover the "
                               "payout."),
    "DE78370400440532013004": ("debit_not_authorized", "Debit transactions are not approved on the bank account."),
    "DE51370400440532013005": ("invalid_currency", "The bank was unable to process this payout because of its "
                               "currency."),
}
PLATFORM_IBAN = "DE89370400440532013000"
CURRENCY_BY_COUNTRY = {"US": "usd", "GB": "gbp", "CH": "chf", "SE": "sek", "DK": "dkk", "NO": "nok", "PL": "pln"}


def iban_valid(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def create(sb: Sandbox, params: dict) -> Row:
    country = (p.string(params, "country") or sb.settings.platform_country).upper()
    account_id = new_id("acct", 16)
    currency = CURRENCY_BY_COUNTRY.get(country, "eur")
    external = p.nested(params, "external_account")
    bank: dict | None = add_bank_account(sb, account_id, external, country, currency) if external else None
    requested = p.nested(params, "capabilities")
    capabilities = {name: "active" for name in requested} or {"transfers": "active"}
    account = {
        "id": account_id, "object": "account",
        "business_profile": {"mcc": None, "name": p.string(p.nested(params, "business_profile"), "name"),
                             "product_description": None, "support_address": None, "support_email": None,
                             "support_phone": None, "support_url": None, "url": None},
        "business_type": p.choice(params, "business_type", ["company", "government_entity", "individual",
                                                             "non_profit"]),
        "capabilities": capabilities, "charges_enabled": True, "country": country, "created": sb.clock.now(),
        "default_currency": currency, "details_submitted": True, "email": p.string(params, "email"),
        "external_accounts": {"object": "list", "data": [bank] if bank else [], "has_more": False,
                              "url": f"/v1/accounts/{account_id}/external_accounts"},
        "metadata": p.metadata(params), "payouts_enabled": True, "settings": None,
        "type": p.choice(params, "type", ["custom", "express", "standard"], default="custom"),
    }
    return sb.store.insert(account, PLATFORM_ACCOUNT)


def add_bank_account(sb: Sandbox, account_id: str, external: dict, country: str, currency: str) -> dict:
    if p.string(external, "object", default="bank_account") != "bank_account":
        raise invalid("The sandbox supports bank accounts only.", "external_account[object]")
    iban = re.sub(r"\s", "", p.string(external, "account_number", required=True) or "").upper()
    if not iban_valid(iban):
        raise invalid("The IBAN you provided is invalid.", "external_account[account_number]",
                      "account_number_invalid")
    bank: dict[str, object] = {
        "id": new_id("ba"), "object": "bank_account", "account": account_id,
        "account_holder_name": p.string(external, "account_holder_name"),
        "account_holder_type": p.string(external, "account_holder_type"), "account_type": None,
        "available_payout_methods": ["standard"], "bank_name": "STRIPE TEST BANK",
        "country": (p.string(external, "country") or iban[:2] or country).upper(),
        "currency": (p.string(external, "currency") or currency).lower(), "default_for_currency": True,
        "fingerprint": f"sbx{iban[-8:]}", "last4": iban[-4:], "metadata": {}, "routing_number": None,
        "status": "new",
    }
    failure = PAYOUT_FAILURES.get(iban)
    sb.store.insert(bank, account_id, {"payout_failure": list(failure) if failure else None})
    return bank


def ensure_platform_bank_account(sb: Sandbox) -> None:
    """The platform's own payouts go to a bank account that always pays."""
    if not default_bank_account(sb, PLATFORM_ACCOUNT):
        add_bank_account(sb, PLATFORM_ACCOUNT, {"account_number": PLATFORM_IBAN}, sb.settings.platform_country,
                         sb.settings.platform_currency)


def default_bank_account(sb: Sandbox, account_id: str) -> Row | None:
    rows = sb.store.select("type = 'bank_account' AND account = ?", [account_id], "seq ASC", 1)
    return rows[0] if rows else None


def get(sb: Sandbox, account_id: str) -> Row:
    row = sb.store.get(account_id, PLATFORM_ACCOUNT, "account")
    if row is None:
        raise no_such("account", account_id)
    return row


def default_currency(sb: Sandbox, account_id: str) -> str:
    if account_id == PLATFORM_ACCOUNT:
        return sb.settings.platform_currency
    return get(sb, account_id)["default_currency"]
