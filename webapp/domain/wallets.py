"""Seller wallets: how a payment order's amount is split between the seller and the platform, and how a
refund is split back. Integers of minor units only.

Rounding rule (documented in docs/ledger.md):

- Platform fee of an order of `amount` with a schedule of `bps` basis points plus `fixed` minor units:
  `min(amount, round_half_up(amount * bps / 10000) + fixed)`. Half a minor unit rounds up (0.5 → 1), which
  for non-negative amounts is `(2 * amount * bps + 10000) // 20000`. The seller's share is `amount - fee`,
  so fee + share is always exactly the amount: no minor unit is lost or created.
- Refund split, policy `proportional` (default): the platform gives back the same fraction of its fee as the
  fraction of the order refunded, computed on the running total so that rounding never drifts: after
  refunds totalling `r` of an order, the platform has returned `round_half_up(fee * r / amount)`. Each refund's
  fee share is therefore that target minus what earlier (not failed) refunds returned, kept within what is
  left of both shares; the last refund of an order returns exactly the rest of the fee.
- Policy `retain`: the platform keeps its fee as long as the seller's share of the order covers the refunds;
  only a refund beyond the seller's share dips into the fee.
Either way the seller's share of all refunds of an order never exceeds its share of the order, the platform's
never exceeds the fee, and the two always add up to the refund.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from webapp.domain.errors import ValidationError

BPS_DENOMINATOR = 10_000


class Funds(StrEnum):
    """Which side of a wallet an order's money is on: not yet available at the PSP, or available."""

    PENDING = "pending"
    AVAILABLE = "available"


def may_go_negative(side: Funds) -> bool:
    """Whether a refund may take a wallet side below zero. The available side may: after a payout the seller's
    money is at its bank, and the refund's debt is netted from the next payouts (Stripe's
    `debit_negative_balances` model). The pending side never: it holds exactly the seller's shares not yet paid
    out, so a refund larger than it is a mistake."""
    return side is Funds.AVAILABLE


class RefundPolicy(StrEnum):
    PROPORTIONAL = "proportional"
    RETAIN = "retain"


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves up (both non-negative)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up_div takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class FeeSchedule:
    """A merchant's platform fee per payment order: basis points of the amount plus fixed minor units."""

    bps: int
    fixed_minor: int

    def __post_init__(self) -> None:
        if type(self.bps) is not int or not 0 <= self.bps <= BPS_DENOMINATOR:
            raise ValidationError(f"Fee basis points must be an integer from 0 to {BPS_DENOMINATOR}.", param="bps")
        if type(self.fixed_minor) is not int or self.fixed_minor < 0:
            raise ValidationError("The fixed fee must be a non-negative integer of minor units.", param="fixed")

    def describe(self) -> str:
        return f"{self.bps / 100:g}% + {self.fixed_minor} minor units"


def platform_fee(amount: int, schedule: FeeSchedule) -> int:
    """The platform's fee on one payment order (see the module docstring for the rounding rule)."""
    if type(amount) is not int or amount < 0:
        raise ValueError(f"amount must be a non-negative integer of minor units, got {amount!r}")
    return min(amount, round_half_up_div(amount * schedule.bps, BPS_DENOMINATOR) + schedule.fixed_minor)


@dataclass(frozen=True)
class Split:
    """How much of a refund comes out of the seller's wallet and how much out of the platform's fee."""

    seller_share: int
    fee_share: int

    @property
    def amount(self) -> int:
        return self.seller_share + self.fee_share


def refundable(captured: int, earlier: Sequence[Split]) -> int:
    """What is left to refund of an order: captured minus its refunds that have not failed."""
    return captured - sum(s.amount for s in earlier)


def refund_split(captured: int, fee: int, earlier: Sequence[Split], amount: int,
                 policy: RefundPolicy = RefundPolicy.PROPORTIONAL) -> Split:
    """Split a refund of `amount` of an order of `captured` (of which `fee` went to the platform), given the
    splits of its earlier refunds that have not failed."""
    if not 0 <= fee <= captured:
        raise ValueError("the fee must lie between 0 and the captured amount")
    left = refundable(captured, earlier)
    if not 0 < amount <= left:
        raise ValueError(f"refund of {amount} outside 1..{left}")
    fee_returned = sum(s.fee_share for s in earlier)
    seller_returned = sum(s.seller_share for s in earlier)
    refunded_after = captured - left + amount
    if policy is RefundPolicy.PROPORTIONAL:
        target = round_half_up_div(fee * refunded_after, captured) - fee_returned
    else:
        target = 0
    # Neither party gives back more than it got from this order; the bounds meet on the last refund.
    lowest = max(0, amount - (captured - fee - seller_returned))
    highest = min(amount, fee - fee_returned)
    fee_share = min(max(target, lowest), highest)
    return Split(amount - fee_share, fee_share)
