"""Stripe's test cards (shared/stripe/README.md §5) and card-form checks.

Only the brand, last four digits and expiry of a card are ever kept; the number itself is dropped
as soon as the card is identified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str


@dataclass(frozen=True)
class TestCard:
    brand: str
    funding: str = "credit"
    decline: Decline | None = None
    three_d_secure: bool = False
    # Funds skip the pending period (Stripe's 4000 0000 0000 0077).
    available_now: bool = False
    # A refund of this card's charge starts succeeded, then fails later (Stripe's 4000 0000 0000 5126).
    refund_fails: bool = False


_DECLINED = "Your card was declined."
GENERIC = Decline("card_declined", "generic_decline", _DECLINED)
INSUFFICIENT = Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.")

CARDS: dict[str, TestCard] = {
    "4242424242424242": TestCard("visa"),
    "4000056655665556": TestCard("visa", funding="debit"),
    "5555555555554444": TestCard("mastercard"),
    "378282246310005": TestCard("amex"),
    "4000000000000077": TestCard("visa", available_now=True),
    "4000000000005126": TestCard("visa", refund_fails=True),
    "4000000000000259": TestCard("visa"),
    "4000000000000002": TestCard("visa", decline=GENERIC),
    "4000000000000341": TestCard("visa", decline=GENERIC),
    "4000000000009995": TestCard("visa", decline=INSUFFICIENT),
    "4000000000009987": TestCard("visa", decline=Decline("card_declined", "lost_card", _DECLINED)),
    "4000000000009979": TestCard("visa", decline=Decline("card_declined", "stolen_card", _DECLINED)),
    "4000000000000069": TestCard("visa", decline=Decline("expired_card", "expired_card", "Your card has expired.")),
    "4000000000000127": TestCard(
        "visa", decline=Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.")
    ),
    "4000000000000119": TestCard(
        "visa",
        decline=Decline(
            "processing_error", "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
    ),
    "4000000000006975": TestCard("visa", decline=Decline("card_declined", "card_velocity_exceeded", _DECLINED)),
    "4100000000000019": TestCard("visa", decline=Decline("card_declined", "fraudulent", _DECLINED)),
    "4000002500003155": TestCard("visa", three_d_secure=True),
    "4000002760003184": TestCard("visa", three_d_secure=True),
    "4000000000003220": TestCard("visa", three_d_secure=True),
    "4000008260003178": TestCard("visa", three_d_secure=True, decline=INSUFFICIENT),
}


@dataclass(frozen=True)
class CardDetails:
    """What is kept of a card: never its number."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    behaviour: TestCard


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def check_form(
    number: str, expiry: str, cvc: str, name: str, today: tuple[int, int]
) -> tuple[CardDetails | None, dict[str, str]]:
    """Validate the card form as Stripe's page does; returns the card, or errors by field name."""
    errors: dict[str, str] = {}
    digits = re.sub(r"[\s-]", "", number)
    card = None
    if not re.fullmatch(r"\d{13,19}", digits) or not luhn_valid(digits):
        errors["card_number"] = "Your card number is invalid."
    elif digits not in CARDS:
        errors["card_number"] = (
            "Your card was declined. Your request was in test mode, but used a non test card. "
            "Use a test card such as 4242 4242 4242 4242."
        )
    else:
        card = CARDS[digits]
    month_year = _expiry(expiry)
    if month_year is None:
        errors["expiry"] = "Your card's expiration date is incomplete."
    elif (month_year[1], month_year[0]) < (today[0], today[1]):
        errors["expiry"] = "Your card's expiration date is in the past."
    cvc_length = 4 if card and card.brand == "amex" else 3
    if not re.fullmatch(rf"\d{{{cvc_length}}}", cvc.strip()):
        errors["cvc"] = "Your card's security code is incomplete."
    if not name.strip():
        errors["name"] = "Enter the name on your card."
    if errors or card is None or month_year is None:
        return None, errors
    return CardDetails(card.brand, digits[-4:], month_year[0], month_year[1], card), {}


def _expiry(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", text)
    if not match:
        return None
    month, year = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    return month, year + 2000 if year < 100 else year
