"""Sandbox controls for Connect (JSON, under `/_sandbox/`, not part of Stripe's API): put an account's
requirements past due and release them, and debit an account as a platform recovering a refund would."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError, invalid
from psp_sandbox.resources import accounts, debits, requirements

bp = Blueprint("connect_controls", __name__, url_prefix="/_sandbox/accounts")


def _sb() -> Sandbox:
    return current_app.extensions["psp_sandbox"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and request.content_length:
        raise invalid("Send a JSON object.")
    if not isinstance(body or {}, dict):
        raise invalid("Send a JSON object.")
    return body or {}


@bp.errorhandler(StripeError)
def _error(error: StripeError) -> tuple[Any, int]:
    return jsonify(error.as_json()), error.status


@bp.post("/<account_id>/requirements")
def restrict(account_id: str) -> Any:
    """Body: {"currently_due": [...], "disabled_reason": "...", "current_deadline": ts}, all optional."""
    body = _body()
    due = body.get("currently_due")
    if due is not None and (not isinstance(due, list) or not all(isinstance(f, str) and f for f in due)):
        raise invalid("`currently_due` is a list of requirement names, e.g. [\"external_account\"].")
    reason = body.get("disabled_reason")
    if reason is not None and reason not in requirements.DISABLED_REASONS:
        raise invalid(f"`disabled_reason` is one of {', '.join(requirements.DISABLED_REASONS)}.")
    deadline = body.get("current_deadline")
    if deadline is not None and (not isinstance(deadline, int) or isinstance(deadline, bool) or deadline < 0):
        raise invalid("`current_deadline` is a Unix timestamp.")
    sb = _sb()
    with sb.store.write():
        account = accounts.get(sb, account_id)
        before = copy.deepcopy(dict(account))
        requirements.restrict(account, due, reason, deadline=deadline)
        accounts.announce(sb, account, before)
    return dict(account)


@bp.post("/<account_id>/requirements/release")
def release(account_id: str) -> Any:
    sb = _sb()
    with sb.store.write():
        account = accounts.get(sb, account_id)
        before = copy.deepcopy(dict(account))
        requirements.release(account)
        accounts.announce(sb, account, before)
    return dict(account)


@bp.post("/<account_id>/debit")
def debit(account_id: str) -> Any:
    """Body: {"amount": 500, "currency": "eur", "description": "..."}; may leave the balance negative."""
    body = _body()
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= 10**12:
        raise invalid("`amount` is a positive integer in minor units (at most 10^12).")
    sb = _sb()
    with sb.store.write():
        account = accounts.get(sb, account_id)
        currency = body.get("currency", account["default_currency"])
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise invalid("`currency` is a three-letter currency code.")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise invalid("`description` is a string.")
        transfer = debits.debit(sb, account_id, amount, currency.lower(), description)
    return dict(transfer)
