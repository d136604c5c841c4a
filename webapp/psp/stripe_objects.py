"""Stripe's JSON read into the port's values (webapp.psp.types, webapp.psp.notices).

Pure functions over dicts, so the adapter, the inbox's reader and tests share one translation. A shape that
does not match what Stripe documents raises MalformedNotice (for events) or PspRejected (for API answers).
"""

from __future__ import annotations

import json
import re
from typing import Any

from webapp.domain.payments import Outcome, outcome_of_session
from webapp.psp.notices import MalformedNotice, Notice, NoticeKind, Subject
from webapp.psp.types import (
    BankAccountState,
    ChargeRefunded,
    CheckoutSession,
    ConnectedAccount,
    FundsAvailable,
    PspBankAccount,
    PspPayout,
    PspPayoutStatus,
    PspRefund,
    PspRefundStatus,
    PspTransfer,
    SessionState,
)

SESSION_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded",
                            "checkout.session.async_payment_failed", "checkout.session.expired"})
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"})
PAYOUT_EVENTS = frozenset({"payout.created", "payout.updated", "payout.paid", "payout.failed", "payout.canceled"})
ACCOUNT_EVENTS = frozenset({"account.updated"})
BANK_ACCOUNT_EVENTS = frozenset({"account.external_account.updated"})
KINDS: dict[str, NoticeKind] = {
    **{t: NoticeKind.CHECKOUT_SESSION for t in SESSION_EVENTS}, **{t: NoticeKind.REFUND for t in REFUND_EVENTS},
    "charge.refunded": NoticeKind.CHARGE_REFUNDED, "balance.available": NoticeKind.FUNDS_AVAILABLE,
    **{t: NoticeKind.PAYOUT for t in PAYOUT_EVENTS}, **{t: NoticeKind.ACCOUNT for t in ACCOUNT_EVENTS},
    **{t: NoticeKind.BANK_ACCOUNT for t in BANK_ACCOUNT_EVENTS}
}


def subscribed_events() -> list[str]:
    """The Stripe event types the gateway acts on: what its webhook endpoints should be enabled for."""
    return sorted(KINDS)


# Stripe's ids: a prefix, an underscore, letters and digits. Anything else in an id field is a malformed event.
_PSP_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
MAX_TEXT = 5000


def _psp_id(value: Any, name: str = "id") -> str:
    if not isinstance(value, str) or not _PSP_ID.fullmatch(value):
        raise ValueError(f"{name} is not an id")
    return value


def _id_of(value: Any, name: str = "id") -> str | None:
    """An expandable field: an id, an expanded object with an id, or nothing; anything else is malformed."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _psp_id(value.get("id"), name)
    return _psp_id(value, name)


def _text(obj: dict, name: str) -> str | None:
    """An optional string field: a list, a number or an object where Stripe sends text is malformed."""
    value = obj.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
        raise ValueError(f"{name} is not a string")
    return value


def _texts(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} is not a list of strings")
    return value


def _object(obj: dict, name: str) -> dict:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{name} is not an object")
    return value


def _metadata(obj: dict) -> dict[str, str]:
    found = _object(obj, "metadata")
    if not all(isinstance(value, str) for value in found.values()):
        raise ValueError("metadata values are not strings")
    return {str(k): v for k, v in found.items()}


def _int(obj: dict, name: str, default: int | None = 0) -> int:
    value = obj.get(name, default)
    if value is None and default is None:
        raise ValueError(f"{name} is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} is not an integer")
    return value


def _enum(kind: type, value: Any):
    try:
        return kind(value)
    except ValueError:
        return None


def session(obj: dict, event_type: str | None = None) -> CheckoutSession:
    intent = obj.get("payment_intent")
    intent_status = _text(intent, "status") if isinstance(intent, dict) else None
    status, payment_status = _text(obj, "status"), _text(obj, "payment_status")
    outcome: Outcome | None = outcome_of_session(status, payment_status, event_type=event_type,
                                                 intent_status=intent_status)
    return CheckoutSession(id=_psp_id(obj.get("id")), url=_text(obj, "url"), state=_enum(SessionState, status),
                           paid=payment_status == "paid", payment_intent_id=_id_of(intent, "payment_intent"),
                           outcome=outcome, client_reference_id=_text(obj, "client_reference_id"),
                           metadata=_metadata(obj))


def refund(obj: dict) -> PspRefund:
    return PspRefund(id=_psp_id(obj.get("id")), status=_enum(PspRefundStatus, _text(obj, "status")),
                     amount=_int(obj, "amount"), currency=(_text(obj, "currency") or "").upper(),
                     payment_intent_id=_id_of(obj.get("payment_intent"), "payment_intent"),
                     failure_reason=_text(obj, "failure_reason"), metadata=_metadata(obj))


def bank_account(obj: dict) -> PspBankAccount:
    return PspBankAccount(id=_psp_id(obj.get("id")), account_id=_id_of(obj.get("account"), "account"),
                          last4=_text(obj, "last4") or "", currency=(_text(obj, "currency") or "").upper(),
                          state=_enum(BankAccountState, _text(obj, "status")) or BankAccountState.NEW,
                          default=bool(obj.get("default_for_currency")))


def account(obj: dict) -> ConnectedAccount:
    requirements = _object(obj, "requirements")
    banks = _object(obj, "external_accounts").get("data") or []
    if not isinstance(banks, list):
        raise ValueError("external_accounts.data is not a list")
    return ConnectedAccount(
        id=_psp_id(obj.get("id")), payouts_enabled=bool(obj.get("payouts_enabled")),
        requirements_due=tuple(_texts(requirements.get("currently_due"), "currently_due")
                               + _texts(requirements.get("past_due"), "past_due")),
        disabled_reason=_text(requirements, "disabled_reason"),
        bank_accounts=tuple(bank_account(b) for b in banks if isinstance(b, dict)
                            and b.get("object", "bank_account") == "bank_account"),
        metadata=_metadata(obj))


def transfer(obj: dict) -> PspTransfer:
    return PspTransfer(id=_psp_id(obj.get("id")), destination=_id_of(obj.get("destination"), "destination") or "",
                       amount=_int(obj, "amount"), amount_reversed=_int(obj, "amount_reversed"),
                       currency=(_text(obj, "currency") or "").upper(), metadata=_metadata(obj))


def payout(obj: dict, account_id: str | None = None) -> PspPayout:
    status = _enum(PspPayoutStatus, _text(obj, "status"))
    if status is None:
        raise ValueError(f"unknown payout status {obj.get('status')!r}")
    arrival = obj.get("arrival_date")
    return PspPayout(id=_psp_id(obj.get("id")), account_id=account_id, amount=_int(obj, "amount"),
                     currency=(_text(obj, "currency") or "").upper(), status=status,
                     arrival_date=arrival if isinstance(arrival, int) and not isinstance(arrival, bool) else None,
                     failure_code=_text(obj, "failure_code"), failure_message=_text(obj, "failure_message"),
                     failure_balance_transaction_id=_id_of(obj.get("failure_balance_transaction"),
                                                           "failure_balance_transaction"),
                     balance_transaction_id=_id_of(obj.get("balance_transaction"), "balance_transaction"),
                     metadata=_metadata(obj))


def _subject(kind: NoticeKind, event_type: str, event: dict, obj: dict, account_id: str | None) -> Subject:
    if kind is NoticeKind.CHECKOUT_SESSION:
        return session(obj, event_type)
    if kind is NoticeKind.REFUND:
        return refund(obj)
    if kind is NoticeKind.CHARGE_REFUNDED:
        return ChargeRefunded(_id_of(obj.get("payment_intent"), "payment_intent"))
    if kind is NoticeKind.FUNDS_AVAILABLE:
        return FundsAvailable(_int(event, "created"))
    if kind is NoticeKind.PAYOUT:
        return payout(obj, account_id)
    if kind is NoticeKind.ACCOUNT:
        return account(obj)
    if kind is NoticeKind.BANK_ACCOUNT:
        return bank_account(obj)
    return None


def kind_needs_id(event_type: str) -> bool:
    """Events the gateway acts on are about an object with an id (balance.available is about the balance)."""
    return KINDS.get(event_type, NoticeKind.OTHER) not in (NoticeKind.OTHER, NoticeKind.FUNDS_AVAILABLE)


def notice(event: Any) -> Notice:
    """A Stripe event (already verified, as parsed JSON) as a typed notice; MalformedNotice if its shape is wrong."""
    if not isinstance(event, dict) or event.get("object") != "event" or not isinstance(event.get("id"), str) \
            or not _PSP_ID.fullmatch(event["id"]):
        raise MalformedNotice("body is not a PSP event")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
        raise MalformedNotice("the event has no type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedNotice("the event's data.object is not an object")
    account_id = event.get("account")
    if account_id is not None and (not isinstance(account_id, str) or not _PSP_ID.fullmatch(account_id)):
        raise MalformedNotice("the event's account is not an id")
    if kind_needs_id(event_type) and not (isinstance(obj.get("id"), str) and _PSP_ID.fullmatch(obj["id"])):
        raise MalformedNotice("the event's data.object has no id")
    kind = KINDS.get(event_type, NoticeKind.OTHER)
    try:
        subject = _subject(kind, event_type, event, obj, account_id)
        created = _int(event, "created")
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedNotice(f"{event_type}: {exc}") from exc
    object_id = obj["id"] if isinstance(obj.get("id"), str) and _PSP_ID.fullmatch(obj["id"]) else None
    return Notice(id=event["id"], type=event_type[:100], kind=kind, created=created, account=account_id,
                  object_id=object_id, subject=subject)


def read_notice(payload: str) -> Notice:
    """A stored event payload (JSON text) as a typed notice."""
    try:
        return notice(json.loads(payload))
    except RecursionError as exc:
        raise MalformedNotice("nested too deeply") from exc
    except ValueError as exc:
        if isinstance(exc, MalformedNotice):
            raise
        raise MalformedNotice(f"not JSON: {exc}") from exc
