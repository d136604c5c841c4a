"""Connect account routes: accounts and their external (bank) accounts."""

from __future__ import annotations

from psp_sandbox import params as p
from psp_sandbox.api import Call, route
from psp_sandbox.errors import invalid, no_such
from psp_sandbox.ids import PLATFORM_ACCOUNT
from psp_sandbox.lists import Query, page
from psp_sandbox.resources import accounts, external_accounts
from psp_sandbox.store import Row


def _reachable(call: Call, account_id: str) -> Row:
    """The platform reaches all its accounts; a connected account (Stripe-Account header) only itself."""
    if not call.is_platform and call.account != account_id:
        raise no_such("account", account_id)
    return accounts.get(call.sb, account_id)


@route("/accounts", "POST")
def create_account(call: Call) -> dict:
    call.require_platform()
    return accounts.create(call.sb, call.params)


@route("/accounts")
def list_accounts(call: Call) -> dict:
    call.require_platform()
    query = Query("account", PLATFORM_ACCOUNT).time_range("created", call.params, "created")
    listed = page(call.sb.store, query, call.params, "/v1/accounts")
    listed["data"] = [accounts.refreshed(call.sb, row) for row in listed["data"]]
    return listed


@route("/accounts/<account_id>")
def retrieve_account(call: Call, account_id: str) -> dict:
    return _reachable(call, account_id)


@route("/accounts/<account_id>", "POST")
def update_account(call: Call, account_id: str) -> dict:
    call.require_platform()
    return accounts.update(call.sb, account_id, call.params)


@route("/accounts/<account_id>", "DELETE")
def delete_account(call: Call, account_id: str) -> dict:
    call.require_platform()
    with call.sb.store.write():
        return accounts.delete(call.sb, account_id)


@route("/accounts/<account_id>/external_accounts")
def list_external_accounts(call: Call, account_id: str) -> dict:
    _reachable(call, account_id)
    kind = p.choice(call.params, "object", ["bank_account", "card"])
    query = Query("bank_account", account_id)
    if kind == "card":
        query.raw("0")  # the sandbox keeps no cards
    return page(call.sb.store, query, call.params, f"/v1/accounts/{account_id}/external_accounts")


@route("/accounts/<account_id>/external_accounts", "POST")
def create_external_account(call: Call, account_id: str) -> dict:
    account = _reachable(call, account_id)
    given = call.params.get("external_account")
    if isinstance(given, str) and given:
        raise no_such("token", given, "external_account")
    if "bank_account" in call.params:
        raise invalid("The sandbox takes a bank account as `external_account[...]`.", "bank_account")
    external = p.nested(call.params, "external_account")
    if not external:
        raise invalid("Missing required param: external_account.", "external_account", "parameter_missing")
    if "metadata" in call.params:
        external = p.Form({**external, "metadata": call.params["metadata"]}, "external_account")
    default = p.boolean(call.params, "default_for_currency")
    return external_accounts.add(call.sb, account_id, external, account["country"], account["default_currency"],
                                 default=default)


@route("/accounts/<account_id>/external_accounts/<bank_id>")
def retrieve_external_account(call: Call, account_id: str, bank_id: str) -> dict:
    _reachable(call, account_id)
    return external_accounts.get(call.sb, account_id, bank_id)


@route("/accounts/<account_id>/external_accounts/<bank_id>", "POST")
def update_external_account(call: Call, account_id: str, bank_id: str) -> dict:
    _reachable(call, account_id)
    return external_accounts.update(call.sb, external_accounts.get(call.sb, account_id, bank_id), call.params)


@route("/accounts/<account_id>/external_accounts/<bank_id>", "DELETE")
def delete_external_account(call: Call, account_id: str, bank_id: str) -> dict:
    _reachable(call, account_id)
    with call.sb.store.write():
        return external_accounts.delete(call.sb, external_accounts.get(call.sb, account_id, bank_id))
