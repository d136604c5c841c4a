"""Parsing and validating seller-account requests (`POST /v1/seller_accounts[/{id}]`, the portal's forms).

Every problem raises ValidationError naming the field (`param`). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from webapp.domain.errors import InvalidMoney, ValidationError
from webapp.domain.money import Money, currency_code
from webapp.domain.payouts import Schedule

CREATE_FIELDS = {"display_name", "email", "country", "currency", "iban", "payout_schedule", "minimum_payout_amount"}
UPDATE_FIELDS = {"display_name", "email", "iban", "payout_schedule", "minimum_payout_amount"}
MAX_NAME = 200


def iban_of(raw: object, *, param: str = "iban") -> str:
    """The IBAN in compact form, validated (country format and check digits)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("An IBAN is required.", param=param, code="parameter_missing")
    try:
        return IBAN(raw).compact
    except SchwiftyException as exc:
        raise ValidationError(f"Invalid IBAN: {exc}", param=param, code="iban_invalid")


def iban_or_none(ref: str) -> str | None:
    """A payment order's seller reference as a compact IBAN, or None when it is not one. Our seller ids hold an
    '_', which no IBAN can (only whitespace is dropped before the check): told apart without schwifty's parse,
    whose failure costs ~15 µs per order on the API's hot path."""
    if "_" in ref:
        return None
    try:
        return IBAN(ref).compact
    except SchwiftyException:
        return None


def email_of(raw: object, *, param: str = "email") -> str:
    if not isinstance(raw, str):
        raise ValidationError("email must be a string.", param=param)
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(f"Invalid email address: {exc}", param=param)


def display_name_of(raw: object, *, param: str = "display_name") -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("display_name is required.", param=param, code="parameter_missing")
    name = " ".join(raw.split())
    if len(name) > MAX_NAME:
        raise ValidationError(f"display_name is longer than {MAX_NAME} characters.", param=param)
    return name


def country_of(raw: object, *, param: str = "country") -> str:
    if not isinstance(raw, str) or len(raw) != 2 or not raw.isalpha() or not raw.isascii():
        raise ValidationError("country must be a two-letter ISO 3166 code such as \"DE\".", param=param)
    return raw.upper()


MAX_MINIMUM_MINOR = 10**15  # far above any real minimum, and within the BIGINT column whatever the exponent


def minimum_of(raw: object, currency: str, *, param: str = "minimum_payout_amount") -> int:
    minor = Money.parse(raw, currency, param=param).minor
    if minor > MAX_MINIMUM_MINOR:
        raise InvalidMoney("The minimum payout amount is too large.", param=param)
    return minor


def _unknown(document: dict, allowed: set[str]) -> None:
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise ValidationError(f"Received unknown parameter: {unknown[0]}.", param=unknown[0],
                              code="parameter_unknown")


@dataclass(frozen=True)
class NewSeller:
    display_name: str
    iban: str
    currency: str
    email: str | None = None
    country: str | None = None        # of the seller; defaults to the IBAN's country
    schedule: Schedule | None = None  # None: the merchant's default
    minimum_payout_minor: int | None = None

    @classmethod
    def basic(cls, display_name: object, iban: object, currency: object) -> NewSeller:
        """A seller with the merchant's default schedule and minimum, from the three fields every form has."""
        return cls(display_name_of(display_name), iban_of(iban), currency_code(currency, param="currency"))

    @property
    def country_or_iban(self) -> str:
        return self.country or self.iban[:2]

    @classmethod
    def from_json(cls, document: object) -> NewSeller:
        if not isinstance(document, dict):
            raise ValidationError("The request body must be a JSON object.")
        _unknown(document, CREATE_FIELDS)
        currency = currency_code(document.get("currency"), param="currency")
        return cls(
            display_name=display_name_of(document.get("display_name")),
            iban=iban_of(document.get("iban")),
            currency=currency,
            email=email_of(document["email"]) if document.get("email") is not None else None,
            country=country_of(document["country"]) if document.get("country") is not None else None,
            schedule=Schedule.from_json(document["payout_schedule"])
            if document.get("payout_schedule") is not None else None,
            minimum_payout_minor=minimum_of(document["minimum_payout_amount"], currency)
            if document.get("minimum_payout_amount") is not None else None,
        )


@dataclass(frozen=True)
class SellerChanges:
    """What an update changes; None leaves a field as it is."""

    display_name: str | None = None
    email: str | None = None
    iban: str | None = None
    schedule: Schedule | None = None
    minimum_payout_minor: int | None = None

    @classmethod
    def from_json(cls, document: object, currency: str) -> SellerChanges:
        if not isinstance(document, dict):
            raise ValidationError("The request body must be a JSON object.")
        _unknown(document, UPDATE_FIELDS)
        return cls(
            display_name=display_name_of(document["display_name"]) if "display_name" in document else None,
            email=email_of(document["email"]) if document.get("email") is not None else None,
            iban=iban_of(document["iban"]) if "iban" in document else None,
            schedule=Schedule.from_json(document["payout_schedule"]) if "payout_schedule" in document else None,
            minimum_payout_minor=minimum_of(document["minimum_payout_amount"], currency)
            if "minimum_payout_amount" in document else None,
        )
