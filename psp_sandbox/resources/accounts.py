"""Connect accounts (the platform's sellers): create, update, delete, with the fields Stripe always includes.

New accounts get Stripe's default payout schedule, automatic `daily` payouts (see schedules.py); a platform
that pays out itself sets `settings[payouts][schedule][interval]=manual`, as on Stripe.
"""

from __future__ import annotations

import copy

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError, invalid, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT, new_id
from psp_sandbox.resources import events, external_accounts, ledger, metadata, requirements, schedules
from psp_sandbox.store import Row

CURRENCY_BY_COUNTRY = {"US": "usd", "GB": "gbp", "CH": "chf", "SE": "sek", "DK": "dkk", "NO": "nok", "PL": "pln"}
_PROFILE = ("mcc", "name", "product_description", "support_email", "support_phone", "support_url", "url")
_TYPES = ["custom", "express", "standard"]
_BUSINESS_TYPES = ["company", "government_entity", "individual", "non_profit"]
UNSUPPORTED = ("account_token", "bank_account", "company", "documents", "individual")


def _refuse_unsupported(params: dict) -> None:
    """Parameters Stripe takes but the sandbox does not model are refused, never silently dropped."""
    for name in UNSUPPORTED:
        if name in params:
            raise invalid(f"The sandbox does not support `{name}`: accounts are verified at once, and bank "
                          "accounts are given as `external_account[...]`.", name)


def create(sb: Sandbox, params: dict) -> Row:
    _refuse_unsupported(params)
    country = (p.string(params, "country") or sb.settings.platform_country).upper()
    account_id = new_id("acct", 16)
    currency = (p.string(params, "default_currency") or CURRENCY_BY_COUNTRY.get(country, "eur")).lower()
    requested = p.nested(params, "capabilities")
    capabilities = {name: "active" for name in requested if p.boolean(p.nested(requested, name), "requested", True)}
    now = sb.clock.now()
    account = {
        "id": account_id, "object": "account",
        "business_profile": {name: None for name in _PROFILE} | {"support_address": None},
        "business_type": p.choice(params, "business_type", _BUSINESS_TYPES),
        "capabilities": capabilities or {"transfers": "active"}, "charges_enabled": True,
        "controller": {"is_controller": True, "type": "application"}, "country": country, "created": now,
        "default_currency": currency, "details_submitted": True, "email": p.string(params, "email"),
        "external_accounts": _bank_list(account_id, []),
        "future_requirements": requirements.empty(), "metadata": p.metadata(params), "payouts_enabled": True,
        "requirements": requirements.empty(),
        "settings": _default_settings(),
        "tos_acceptance": _tos(p.nested(params, "tos_acceptance")),
        "type": p.choice(params, "type", _TYPES, default="custom"),
    }
    _apply_profile(account, p.nested(params, "business_profile"))
    _apply_settings(account, p.nested(params, "settings"))
    row = sb.store.insert(account, PLATFORM_ACCOUNT)
    external = p.nested(params, "external_account")
    if external:
        external_accounts.add(sb, account_id, external, country, currency)
    if requirements.restricted_by_name(row):
        requirements.restrict(row, None, None, by_name=True)
    sb.store.save(row)
    schedules.plan(sb, row)
    return refreshed(sb, row)


def update(sb: Sandbox, account_id: str, params: dict) -> Row:
    _refuse_unsupported(params)
    row = get(sb, account_id)
    before = copy.deepcopy(dict(row))
    if "email" in params:
        row["email"] = p.string(params, "email")
    if "business_type" in params:
        row["business_type"] = p.choice(params, "business_type", _BUSINESS_TYPES)
    if "default_currency" in params:
        row["default_currency"] = p.currency(params, "default_currency")
    if "metadata" in params:
        row["metadata"] = metadata.merged(row["metadata"], params)
    _apply_profile(row, p.nested(params, "business_profile"))
    _apply_settings(row, p.nested(params, "settings"))
    _apply_capabilities(sb, row, p.nested(params, "capabilities"))
    if "tos_acceptance" in params:
        row["tos_acceptance"] = {**row["tos_acceptance"], **_tos(p.nested(params, "tos_acceptance"))}
    external = p.nested(params, "external_account")
    if external:
        external_accounts.replace_all(sb, account_id, external, row["country"], row["default_currency"])
    if requirements.restricted_by_name(row):
        requirements.restrict(row, None, None, by_name=True)
    elif row.private.get("restricted_by_name"):
        requirements.release(row)
    refreshed(sb, row)
    announce(sb, row, before)
    if row["settings"]["payouts"]["schedule"] != before["settings"]["payouts"]["schedule"]:
        schedules.plan(sb, row)
    return row


def announce(sb: Sandbox, row: Row, before: dict) -> None:
    """Save the account and emit `account.updated` with the top-level fields that changed, as Stripe does."""
    sb.store.save(row)
    previous = {key: before.get(key) for key in row if key != "external_accounts" and row[key] != before.get(key)}
    if previous:
        events.emit(sb, "account.updated", row, row["id"], previous=previous)


def delete(sb: Sandbox, account_id: str) -> dict:
    row = get(sb, account_id)
    if row["type"] == "standard":
        raise invalid("Standard accounts cannot be deleted by the platform; they can only be rejected.")
    for currency, available, pending in ledger.amounts(sb, account_id):
        if available or pending:
            raise invalid(f"This account cannot be deleted because it has a non-zero balance ({currency}: "
                          f"{available} available, {pending} pending). Its balance must be zero to delete it.")
    for bank in external_accounts.all_of(sb, account_id):
        sb.store.conn().execute("DELETE FROM objects WHERE id = ?", (bank["id"],))
    sb.store.conn().execute("DELETE FROM objects WHERE id = ?", (account_id,))
    sb.store.conn().execute("DELETE FROM timers WHERE object_id LIKE ?", (f"{account_id}:%",))
    events.emit(sb, "account.application.deauthorized", {"id": new_id("ca"), "object": "application",
                                                         "name": sb.settings.merchant_name}, account_id)
    return {"id": account_id, "object": "account", "deleted": True}


def get(sb: Sandbox, account_id: str) -> Row:
    row = sb.store.get(account_id, PLATFORM_ACCOUNT, "account")
    if row is None:
        raise no_such("account", account_id)
    return refreshed(sb, row)


def refreshed(sb: Sandbox, row: Row) -> Row:
    """The account with its current bank accounts embedded (they are stored as objects of their own)."""
    row["external_accounts"] = _bank_list(row["id"], [dict(bank) for bank in external_accounts.all_of(sb, row["id"])])
    return row


def default_currency(sb: Sandbox, account_id: str) -> str:
    if account_id == PLATFORM_ACCOUNT:
        return sb.settings.platform_currency
    return get(sb, account_id)["default_currency"]


def _bank_list(account_id: str, banks: list[dict]) -> dict:
    return {"object": "list", "data": banks, "has_more": False, "url": f"/v1/accounts/{account_id}/external_accounts"}


def _default_settings() -> dict:
    return {
        "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
        "card_payments": {"decline_on": {"avs_failure": False, "cvc_failure": False},
                          "statement_descriptor_prefix": None, "statement_descriptor_prefix_kana": None,
                          "statement_descriptor_prefix_kanji": None},
        "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
        "payments": {"statement_descriptor": None, "statement_descriptor_kana": None,
                     "statement_descriptor_kanji": None, "statement_descriptor_prefix_kana": None,
                     "statement_descriptor_prefix_kanji": None},
        "payouts": {"debit_negative_balances": True, "schedule": dict(schedules.DEFAULT),
                    "statement_descriptor": None},
        "sepa_debit_payments": {},
    }


def _tos(given: dict) -> dict:
    return {"date": p.integer(given, "date"), "ip": p.string(given, "ip"),
            "service_agreement": p.choice(given, "service_agreement", ["full", "recipient"], default="full"),
            "user_agent": p.string(given, "user_agent")}


def _apply_profile(account: dict, profile: dict) -> None:
    for name in _PROFILE:
        if name in profile:
            account["business_profile"][name] = p.string(profile, name)


def _apply_settings(account: dict, settings: dict) -> None:
    for section in settings:
        if section == "payouts":
            continue
        if section not in _SETTINGS_SECTIONS:
            raise invalid(f"The sandbox does not support `settings[{section}]`.", f"settings[{section}]")
        _merge(account["settings"][section], p.nested(settings, section), f"settings[{section}]")
    payouts = p.nested(settings, "payouts")
    if not payouts:
        return
    current = account["settings"]["payouts"]
    if "debit_negative_balances" in payouts:
        current["debit_negative_balances"] = p.boolean(payouts, "debit_negative_balances")
    if "statement_descriptor" in payouts:
        current["statement_descriptor"] = p.string(payouts, "statement_descriptor")
    schedule = p.nested(payouts, "schedule")
    if schedule:
        current["schedule"] = schedules.parse(schedule, current["schedule"])


_SETTINGS_SECTIONS = ("branding", "card_payments", "dashboard", "payments")


def _merge(current: dict, given: dict, prefix: str) -> None:
    """Set the given fields of a settings section, typed like the current values (strings, booleans, hashes)."""
    for key in given:
        name = f"{prefix}[{key}]"
        if key not in current:
            raise invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")
        if isinstance(current[key], dict):
            _merge(current[key], p.nested(given, key), name)
        elif isinstance(current[key], bool):
            current[key] = p.boolean(given, key)
        else:
            current[key] = p.string(given, key)


def _apply_capabilities(sb: Sandbox, row: Row, requested: dict) -> None:
    for name, wanted in requested.items():
        if not isinstance(wanted, dict):
            raise invalid(f"Invalid hash: capabilities[{name}]", f"capabilities[{name}]")
        status = "active" if p.boolean(wanted, "requested", True) else "inactive"
        if row["capabilities"].get(name) == status:
            continue
        previous = row["capabilities"].get(name, "inactive")
        row["capabilities"][name] = status
        events.emit(sb, "capability.updated", capability(row, name), row["id"], previous={"status": previous})


def capability(row: dict, name: str) -> dict:
    """The Capability object Stripe sends in `capability.updated`."""
    status = row["capabilities"].get(name, "inactive")
    return {"id": name, "object": "capability", "account": row["id"], "future_requirements": requirements.empty(),
            "requested": status != "inactive", "requested_at": row["created"] if status != "inactive" else None,
            "requirements": {k: v for k, v in row["requirements"].items() if k != "pending_verification"}
            | {"pending_verification": []}, "status": status}


def require_transfers(row: Row) -> None:
    """Stripe refuses transfers to an account without an active `transfers` capability."""
    if row["capabilities"].get("transfers") != "active" and row["capabilities"].get("legacy_payments") != "active":
        raise StripeError(400, "invalid_request_error", "Your destination account needs to have at least one of the "
                          "following capabilities enabled: transfers, crypto_transfers, legacy_payments",
                          param="destination", code="insufficient_capabilities_for_transfer")
