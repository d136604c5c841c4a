"""Reconciliation rules: what a settlement row means, how a pair of rows (the PSP's, ours) is classified, when a
timing difference escalates, and what is safe to fix without a person. Pure functions, no I/O.

A *movement* is one change of a PSP balance, as the PSP's itemized reports list it (one balance transaction) and
as our records and ledger book it. Both sides name it by the PSP object behind it (`source_id`: ch_, re_, tr_,
trr_, po_) and its kind; our records may also be found by the id we gave the PSP in the object's metadata (`ref`:
our checkout or refund id) when we never learnt the PSP's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from webapp.domain.errors import InvalidMoney
from webapp.domain.money import CURRENCY_EXPONENTS, currency_code

DAY_SECONDS = 86_400


class MismatchClass(StrEnum):
    """The classes of difference; these names are part of the interface (CLI JSON, pages, docs)."""

    MISSING_IN_LEDGER = "missing_in_ledger"  # the PSP reports a movement we have no record or entry for
    MISSING_AT_PSP = "missing_at_psp"        # we booked a movement that day the PSP's report does not contain
    AMOUNT_MISMATCH = "amount_mismatch"      # both sides have it; the gross amount differs
    FEE_MISMATCH = "fee_mismatch"            # both sides have it; the PSP fee differs from what we booked
    CURRENCY_MISMATCH = "currency_mismatch"  # both sides have it; the currency differs
    STATUS_MISMATCH = "status_mismatch"      # both sides have it; the outcome differs
    DUPLICATE = "duplicate"                  # one movement twice in the report, or one event backed by two
    TIMING = "timing"                        # harmless: it belongs to a neighbouring day; carried forward
    BALANCE_MISMATCH = "balance_mismatch"    # an account's balance differs from the PSP's


class MismatchStatus(StrEnum):
    """OPEN until someone (or the run) settles it. AUTO_RESOLVED: fixed by the run through the normal event path,
    or a timing difference whose counterpart arrived. ADJUSTED: an admin posted an adjusting entry. ACCEPTED: an
    admin accepted (wrote off) the difference. CLEARED: a re-run of its day no longer finds it."""

    OPEN = "open"
    AUTO_RESOLVED = "auto_resolved"
    ADJUSTED = "adjusted"
    ACCEPTED = "accepted"
    CLEARED = "cleared"


SETTLED = frozenset({MismatchStatus.AUTO_RESOLVED, MismatchStatus.ADJUSTED, MismatchStatus.ACCEPTED})


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RunSource(StrEnum):
    PSP = "psp"    # report runs fetched through the SDK
    FILE = "file"  # a file a person supplied (upload or command line)


class Movement(StrEnum):
    """The kinds of movement matched, from the report's `reporting_category` and whose balance it is."""

    CHARGE = "charge"
    REFUND = "refund"
    REFUND_FAILURE = "refund_failure"
    TRANSFER = "transfer"
    TRANSFER_REVERSAL = "transfer_reversal"
    PAYOUT = "payout"
    PAYOUT_FAILURE = "payout_failure"
    OTHER = "other"    # a category we book nothing for: always reported
    MIRROR = "mirror"  # a connected account's side of a platform movement matched on the platform's row


# Movements of one PSP object: a row of one kind may find the object under another (a refund_failure row for a
# refund we think succeeded): that is a status difference, not a missing record.
FAMILY = {Movement.CHARGE: "charge", Movement.REFUND: "refund", Movement.REFUND_FAILURE: "refund",
          Movement.TRANSFER: "transfer", Movement.TRANSFER_REVERSAL: "transfer", Movement.PAYOUT: "payout",
          Movement.PAYOUT_FAILURE: "payout", Movement.OTHER: "other", Movement.MIRROR: "mirror"}

_PLATFORM_CATEGORIES = {"charge": Movement.CHARGE, "refund": Movement.REFUND,
                        "refund_failure": Movement.REFUND_FAILURE, "transfer": Movement.TRANSFER,
                        "transfer_reversal": Movement.TRANSFER_REVERSAL}
_CONNECTED_CATEGORIES = {"payout": Movement.PAYOUT, "payout_reversal": Movement.PAYOUT_FAILURE,
                         "charge": Movement.MIRROR, "transfer": Movement.MIRROR,
                         "transfer_reversal": Movement.MIRROR}


def movement_of(category: str, connected: bool) -> Movement:
    """The movement a report row stands for: the platform's charges, refunds and transfers; a connected account's
    payouts (its incoming transfers mirror the platform's transfer rows)."""
    table = _CONNECTED_CATEGORIES if connected else _PLATFORM_CATEGORIES
    return table.get(category, Movement.OTHER)


_SIGNED = re.compile(r"^(-?)(0|[1-9][0-9]{0,15})(?:\.([0-9]+))?$")


def parse_amount(raw: str, currency: str) -> int:
    """A report amount in major units ("-12.30" EUR, "1500" JPY) as signed minor units, exactly: more decimals
    than the currency has are refused, never rounded ("1.005" USD is an error, "1500.0" JPY too)."""
    code = currency_code(currency)
    match = _SIGNED.fullmatch(raw.strip())
    if match is None:
        raise InvalidMoney(f"Amount {raw!r} is not a decimal number.")
    sign, whole, fraction = match.group(1), match.group(2), match.group(3)
    places = CURRENCY_EXPONENTS[code]
    if fraction is not None and (len(fraction) > places or places == 0):
        raise InvalidMoney(f"Amount {raw!r} has more decimals than {code} allows ({places}).")
    minor = int(whole) * 10**places + int((fraction or "").ljust(places, "0") or 0)
    return -minor if sign else minor


def day_bounds(day: date) -> tuple[int, int]:
    """[start, end) of a UTC day in Unix seconds."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    return start, start + DAY_SECONDS


def day_of(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


@dataclass(frozen=True)
class PspSide:
    """One report row."""

    movement: Movement
    balance_transaction_id: str
    source_id: str
    currency: str
    gross: int
    fee: int
    created: int           # PSP time
    repeat: int = 1        # 2, 3…: the same balance transaction listed again


class Outcome(StrEnum):
    """What our books say happened to the object behind a movement."""

    BOOKED = "booked"      # the ledger has this movement's entry
    WAITING = "waiting"    # we asked the PSP and never heard the answer (requested, pending): news was lost
    OTHER = "other"        # our object ended otherwise (failed, canceled, paid…)


@dataclass(frozen=True)
class OurSide:
    """Our record of a movement (or, `found_by` "family", of its object under another kind of movement)."""

    movement: Movement
    source_id: str | None
    ref: str
    currency: str
    amount: int
    fee: int
    outcome: Outcome
    at: int                # our time, Unix seconds
    found_by: str = "key"  # key (the PSP id) | ref (our id in the PSP's metadata) | family (same object)


def classify(psp: PspSide, ours: OurSide | None, day: date) -> MismatchClass | None:
    """A report row of `day` against what we have for it (None: nothing). Returns its class, or None when
    they agree. One class per pair, the most basic difference first: a pair that differs in currency is not
    also called an amount mismatch."""
    if psp.repeat > 1:
        return MismatchClass.DUPLICATE
    if ours is None:
        return MismatchClass.MISSING_IN_LEDGER
    if ours.found_by == "ref" and ours.source_id and ours.source_id != psp.source_id:
        return MismatchClass.DUPLICATE  # our event is already backed by another PSP movement
    if ours.found_by == "family":
        return MismatchClass.STATUS_MISMATCH
    if ours.outcome is Outcome.WAITING:
        return MismatchClass.MISSING_IN_LEDGER
    if ours.outcome is Outcome.OTHER:
        return MismatchClass.STATUS_MISMATCH
    if ours.currency != psp.currency:
        return MismatchClass.CURRENCY_MISMATCH
    if ours.amount != psp.gross:
        return MismatchClass.AMOUNT_MISMATCH
    if ours.fee != psp.fee:
        return MismatchClass.FEE_MISMATCH
    if day_of(ours.at) != day:
        return MismatchClass.TIMING
    return None


def classify_unreported(ours: OurSide, day: date, *, in_neighbouring_day: bool) -> MismatchClass:
    """A movement we booked on `day` that the day's report lacks: a neighbouring day's report has it (timing),
    or the PSP does not know it."""
    return MismatchClass.TIMING if in_neighbouring_day else MismatchClass.MISSING_AT_PSP


def escalated(found_on: date, today: date, after_days: int) -> bool:
    """A timing difference still open `after_days` days after the day it was found on needs a person."""
    return today - found_on >= timedelta(days=after_days)


# What the run may fix by itself: news we lost about a charge or a refund, fetched again from the PSP and applied
# through the same services the inbox uses (idempotent, forward-only). Never an amount.
AUTO_FIXABLE = frozenset({(MismatchClass.MISSING_IN_LEDGER, Movement.CHARGE),
                          (MismatchClass.MISSING_IN_LEDGER, Movement.REFUND),
                          (MismatchClass.MISSING_IN_LEDGER, Movement.REFUND_FAILURE)})


def auto_fixable(kind: MismatchClass, movement: Movement) -> bool:
    return (kind, movement) in AUTO_FIXABLE


class AdjustTarget(StrEnum):
    """Where an adjusting entry puts the difference against the PSP balance."""

    SUSPENSE = "suspense"
    PSP_FEES = "psp_fees"


def mismatch_key(kind: MismatchClass, *parts: str | None) -> str:
    """The stable name of a difference within its day: a re-run finds the same key for the same difference."""
    return ":".join([kind.value, *(p or "-" for p in parts)])[:200]
