"""Parsing and validating the merchant's `POST /v1/payments` body into a command.

Every problem raises ValidationError naming the offending field (`param`) in Stripe's bracket style,
e.g. `payment_orders[1][amount]`. Nothing here touches the database: seller accounts are resolved by
the service.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from webapp.domain.cards import find_card_data
from webapp.domain.errors import ValidationError
from webapp.domain.money import Money, currency_code

MAX_ORDERS = 100
_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,255}$")
_FIELDS = {"checkout_id", "buyer_info", "payment_orders", "success_url", "cancel_url"}
_ORDER_FIELDS = {"payment_order_id", "seller_account", "amount", "currency", "description"}
_BUYER_FIELDS = {"email", "name"}


CARD_DATA_MESSAGE = ("Card details must not be sent to this API: the buyer enters them only on the payment "
                     "provider's hosted page. Remove the card data and send the buyer to checkout_url.")


class CardDataRefused(ValidationError):
    code = "card_data_not_allowed"


@dataclass(frozen=True)
class OrderRequest:
    payment_order_id: str
    seller_ref: str
    amount: Money
    description: str | None


@dataclass(frozen=True)
class CreatePayment:
    checkout_id: str
    buyer_email: str
    buyer_name: str | None
    orders: tuple[OrderRequest, ...]
    success_url: str | None
    cancel_url: str | None
    request_hash: str

    @property
    def currency(self) -> str:
        return self.orders[0].amount.currency

    @property
    def total(self) -> Money:
        return Money(sum(o.amount.minor for o in self.orders), self.currency)

    @classmethod
    def from_json(cls, document: object, *, max_amount_minor: int) -> CreatePayment:
        if not isinstance(document, dict):
            raise ValidationError("The request body must be a JSON object.")
        card_path = find_card_data(document)
        if card_path is not None:
            raise CardDataRefused(CARD_DATA_MESSAGE, param=card_path)
        _no_unknown(document, _FIELDS, "")
        orders = _orders(document.get("payment_orders"), max_amount_minor)
        email, name = _buyer(document.get("buyer_info"))
        return cls(
            checkout_id=_identifier(document.get("checkout_id"), "checkout_id"),
            buyer_email=email,
            buyer_name=name,
            orders=orders,
            success_url=_url(document.get("success_url"), "success_url"),
            cancel_url=_url(document.get("cancel_url"), "cancel_url"),
            request_hash=request_hash(document),
        )


def request_hash(document: object) -> str:
    """A digest of the body's meaning (key order and whitespace do not matter)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _no_unknown(document: dict, allowed: set[str], prefix: str) -> None:
    for key in document:
        if key not in allowed:
            name = f"{prefix}[{key}]" if prefix else key
            raise ValidationError(f"Received unknown parameter: {name}.", param=name, code="parameter_unknown")


def _missing(param: str) -> ValidationError:
    return ValidationError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def _identifier(value: object, param: str) -> str:
    if value is None or value == "":
        raise _missing(param)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValidationError(f"{param} must be 1-255 characters of letters, digits, '.', '_', ':' or '-'.",
                              param=param)
    return value


def _buyer(value: object) -> tuple[str, str | None]:
    if value is None:
        raise _missing("buyer_info")
    if not isinstance(value, dict):
        raise ValidationError("buyer_info must be an object with email and name.", param="buyer_info")
    _no_unknown(value, _BUYER_FIELDS, "buyer_info")
    raw_email = value.get("email")
    if not raw_email:
        raise _missing("buyer_info[email]")
    if not isinstance(raw_email, str) or len(raw_email) > 254:
        raise ValidationError("buyer_info[email] must be an email address.", param="buyer_info[email]")
    try:
        email = validate_email(raw_email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(f"Invalid email address: {exc}", param="buyer_info[email]")
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise ValidationError("buyer_info[name] must be a string of at most 200 characters.",
                              param="buyer_info[name]")
    return email, (name.strip() or None) if isinstance(name, str) else None


def _orders(value: object, max_amount_minor: int) -> tuple[OrderRequest, ...]:
    if value is None:
        raise _missing("payment_orders")
    if not isinstance(value, list) or not value:
        raise ValidationError("payment_orders must be a non-empty list.", param="payment_orders")
    if len(value) > MAX_ORDERS:
        raise ValidationError(f"A checkout holds at most {MAX_ORDERS} payment orders; got {len(value)}.",
                              param="payment_orders")
    orders = tuple(_order(item, f"payment_orders[{i}]", max_amount_minor) for i, item in enumerate(value))
    seen: set[str] = set()
    for index, order in enumerate(orders):
        if order.payment_order_id in seen:
            raise ValidationError(f"Duplicate payment_order_id {order.payment_order_id!r}.",
                                  param=f"payment_orders[{index}][payment_order_id]")
        seen.add(order.payment_order_id)
        if order.amount.currency != orders[0].amount.currency:
            raise ValidationError("All payment orders of a checkout must use the same currency.",
                                  param=f"payment_orders[{index}][currency]", code="currency_mismatch")
    if sum(o.amount.minor for o in orders) > max_amount_minor:
        raise ValidationError("The checkout total is above the maximum amount allowed.", param="payment_orders",
                              code="amount_too_large")
    return orders


def _order(value: object, param: str, max_amount_minor: int) -> OrderRequest:
    if not isinstance(value, dict):
        raise ValidationError(f"{param} must be an object.", param=param)
    _no_unknown(value, _ORDER_FIELDS, param)
    order_id = _identifier(value.get("payment_order_id"), f"{param}[payment_order_id]")
    seller = value.get("seller_account")
    if not seller:
        raise _missing(f"{param}[seller_account]")
    if not isinstance(seller, str) or len(seller) > 64:
        raise ValidationError("seller_account must be a seller account id or IBAN.", param=f"{param}[seller_account]")
    if value.get("currency") in (None, ""):
        raise _missing(f"{param}[currency]")
    currency = currency_code(value.get("currency"), param=f"{param}[currency]")
    if value.get("amount") in (None, ""):
        raise _missing(f"{param}[amount]")
    amount = Money.parse(value.get("amount"), currency, param=f"{param}[amount]")
    if amount.minor <= 0:
        raise ValidationError("Amount must be greater than zero.", param=f"{param}[amount]", code="amount_too_small")
    if amount.minor > max_amount_minor:
        raise ValidationError(f"Amount is above the maximum of {Money(max_amount_minor, currency).decimal_string}.",
                              param=f"{param}[amount]", code="amount_too_large")
    description = value.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 250):
        raise ValidationError("description must be a string of at most 250 characters.",
                              param=f"{param}[description]")
    return OrderRequest(order_id, seller, amount, description)


def _url(value: object, param: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 2048:
        raise ValidationError(f"{param} must be an http(s) URL.", param=param)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"{param} must be an absolute http(s) URL.", param=param, code="url_invalid")
    return value
