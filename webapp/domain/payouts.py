"""Pay-out rules: schedules, when a seller is due and for how much, payout statuses, and why payouts pause.

Plain functions over plain values (no database, no PSP). All dates are UTC calendar dates.

Statuses mirror the PSP's payout: `pending → in_transit → paid | failed | canceled`. Only forward moves apply,
so duplicated and reordered news never moves a payout backwards, with one exception banks really produce: a
`paid` payout can still turn `failed` days later (the bank returned it).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from webapp.domain.errors import ValidationError


class Interval(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    MANUAL = "manual"  # never by schedule: "Pay out now" or POST /v1/payouts only


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_DELAY_DAYS = 365


@dataclass(frozen=True)
class Schedule:
    """When a seller is paid: every day, on one weekday, on one day of the month, or only when asked.

    `delay_days` holds money for that many days after it became available before it is paid out."""

    interval: Interval = Interval.DAILY
    weekly_anchor: str | None = None
    monthly_anchor: int | None = None
    delay_days: int = 0

    def __post_init__(self) -> None:
        if self.interval is Interval.WEEKLY and self.weekly_anchor not in WEEKDAYS:
            raise ValidationError("A weekly schedule needs weekly_anchor: one of " + ", ".join(WEEKDAYS) + ".",
                                  param="payout_schedule[weekly_anchor]")
        if self.interval is not Interval.WEEKLY and self.weekly_anchor is not None:
            raise ValidationError("weekly_anchor applies to weekly schedules only.",
                                  param="payout_schedule[weekly_anchor]")
        if self.interval is Interval.MONTHLY:
            anchor = self.monthly_anchor
            if type(anchor) is not int or not 1 <= anchor <= 31:
                raise ValidationError("A monthly schedule needs monthly_anchor: a day of the month, 1 to 31.",
                                      param="payout_schedule[monthly_anchor]")
        elif self.monthly_anchor is not None:
            raise ValidationError("monthly_anchor applies to monthly schedules only.",
                                  param="payout_schedule[monthly_anchor]")
        if type(self.delay_days) is not int or not 0 <= self.delay_days <= MAX_DELAY_DAYS:
            raise ValidationError(f"delay_days must be a whole number of days from 0 to {MAX_DELAY_DAYS}.",
                                  param="payout_schedule[delay_days]")

    @classmethod
    def from_json(cls, document: object, *, param: str = "payout_schedule") -> Schedule:
        """Read `{"interval", "weekly_anchor", "monthly_anchor", "delay_days"}` strictly."""
        if not isinstance(document, dict):
            raise ValidationError("payout_schedule must be an object.", param=param)
        unknown = sorted(set(document) - {"interval", "weekly_anchor", "monthly_anchor", "delay_days"})
        if unknown:
            raise ValidationError(f"Unknown field {unknown[0]!r}.", param=f"{param}[{unknown[0]}]",
                                  code="parameter_unknown")
        raw = document.get("interval")
        try:
            interval = Interval(str(raw))
        except ValueError:
            raise ValidationError("interval must be one of daily, weekly, monthly, manual.",
                                  param=f"{param}[interval]")
        anchor = document.get("weekly_anchor")
        if anchor is not None and not isinstance(anchor, str):
            raise ValidationError("weekly_anchor must be a weekday name.", param=f"{param}[weekly_anchor]")
        delay = document.get("delay_days", 0)
        monthly = document.get("monthly_anchor")
        for name, value in (("delay_days", delay), ("monthly_anchor", monthly)):
            if value is not None and type(value) is not int:
                raise ValidationError(f"{name} must be an integer.", param=f"{param}[{name}]")
        return cls(interval, anchor.lower() if anchor else None, monthly, delay if delay is not None else 0)

    def as_json(self) -> dict:
        return {"interval": self.interval.value, "weekly_anchor": self.weekly_anchor,
                "monthly_anchor": self.monthly_anchor, "delay_days": self.delay_days}

    def describe(self) -> str:
        """The schedule in words, for the portal."""
        held = f", {self.delay_days} day{'s' if self.delay_days != 1 else ''} after funds are available" \
            if self.delay_days else ""
        if self.interval is Interval.DAILY:
            return f"Every day{held}"
        if self.interval is Interval.WEEKLY:
            return f"Every {(self.weekly_anchor or '').capitalize()}{held}"
        if self.interval is Interval.MONTHLY:
            return f"Monthly on day {self.monthly_anchor} (or the month's last day){held}"
        return "Manual: only when you press Pay out now or call POST /v1/payouts"


def payout_day_of_month(anchor: int, year: int, month: int) -> int:
    """The day a monthly schedule pays in a month: its anchor, or the month's last day for 29-31 in a shorter one."""
    return min(anchor, calendar.monthrange(year, month)[1])


def period_of(schedule: Schedule, day: date) -> str | None:
    """The schedule period that `day` pays, if `day` is a payout day of the schedule; else None.

    A seller is paid at most once per period (the database holds one payout per seller, currency and period):
    daily `2026-11-30`, weekly by ISO week `2026-W48`, monthly `2026-11`."""
    if schedule.interval is Interval.DAILY:
        return day.isoformat()
    if schedule.interval is Interval.WEEKLY:
        if WEEKDAYS[day.weekday()] != schedule.weekly_anchor:
            return None
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if schedule.interval is Interval.MONTHLY:
        assert schedule.monthly_anchor is not None
        if day.day != payout_day_of_month(schedule.monthly_anchor, day.year, day.month):
            return None
        return f"{day.year}-{day.month:02d}"
    return None


def manual_period(payout_id: str) -> str:
    """A payout someone asked for now is a period of its own (it still cannot pay more than is available)."""
    return f"now:{payout_id}"


_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}|\d{4}-\d{2}|now:.+)$", re.ASCII)


def is_period(value: str) -> bool:
    return bool(_PERIOD.fullmatch(value))


def payout_amount(available: int, minimum: int) -> int | None:
    """How much to pay out of an available balance: all of it, if it reaches the minimum (and is positive)."""
    if type(available) is not int or type(minimum) is not int or minimum < 0:
        raise ValueError("balances and minimums are integers of minor units; the minimum is not negative")
    if available <= 0 or available < minimum:
        return None
    return available


class PayoutStatus(StrEnum):
    PENDING = "pending"        # reserved from the wallet; transfer and payout being created at the PSP
    IN_TRANSIT = "in_transit"  # the PSP sent it to the bank
    PAID = "paid"              # the bank has it (may still turn failed)
    FAILED = "failed"          # the bank refused or returned it; the money is back in the wallet
    CANCELED = "canceled"      # stopped before it was sent; the money is back in the wallet


FINAL = frozenset({PayoutStatus.FAILED, PayoutStatus.CANCELED})
UNSETTLED = frozenset({PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT})

ALLOWED: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    PayoutStatus.PENDING: frozenset({PayoutStatus.IN_TRANSIT, PayoutStatus.PAID, PayoutStatus.FAILED,
                                     PayoutStatus.CANCELED}),
    PayoutStatus.IN_TRANSIT: frozenset({PayoutStatus.PAID, PayoutStatus.FAILED}),
    PayoutStatus.PAID: frozenset({PayoutStatus.FAILED}),  # a bank's late return
    PayoutStatus.FAILED: frozenset(),
    PayoutStatus.CANCELED: frozenset(),
}


@dataclass(frozen=True)
class PayoutTransition:
    before: PayoutStatus
    after: PayoutStatus

    @property
    def changed(self) -> bool:
        return self.before is not self.after

    @property
    def returns_money(self) -> bool:
        """The payout's money comes back to the seller's wallet (it failed or was canceled)."""
        return self.changed and self.after in FINAL

    @property
    def unpays(self) -> bool:
        """A payout already booked as paid came back: the paid booking is undone first."""
        return self.before is PayoutStatus.PAID and self.after is PayoutStatus.FAILED


def next_payout_status(current: PayoutStatus, reported: PayoutStatus) -> PayoutTransition:
    """Where a payout in `current` goes when the PSP reports `reported`; stale or repeated news changes nothing."""
    if reported in ALLOWED[current]:
        return PayoutTransition(current, reported)
    return PayoutTransition(current, current)


class PausedReason(StrEnum):
    """Why a seller is not being paid, most urgent first (the API's `payouts_paused_reason`)."""

    ACCOUNT_DISABLED = "account_disabled"
    ONBOARDING = "onboarding"
    BANK_ACCOUNT_ERRORED = "bank_account_errored"
    BANK_ACCOUNT_PENDING = "bank_account_pending"
    REQUIREMENTS_DUE = "requirements_due"
    NEGATIVE_BALANCE = "negative_balance"
    BELOW_MINIMUM = "below_minimum"


PAUSED_WORDS = {
    PausedReason.ACCOUNT_DISABLED: "The payment provider has disabled this seller's account.",
    PausedReason.ONBOARDING: "The seller's account is still being set up at the payment provider.",
    PausedReason.BANK_ACCOUNT_ERRORED: "The last payout was returned by the bank. Replace the bank account "
                                       "(IBAN) to resume payouts.",
    PausedReason.BANK_ACCOUNT_PENDING: "The new bank account is being registered with the payment provider; "
                                       "payouts resume as soon as it is.",
    PausedReason.REQUIREMENTS_DUE: "The payment provider needs more information about this seller before it "
                                   "can be paid.",
    PausedReason.NEGATIVE_BALANCE: "Refunds after a payout left the wallet negative; new sales pay it back "
                                   "before the next payout.",
    PausedReason.BELOW_MINIMUM: "The available balance is below the seller's minimum payout amount.",
}


class AccountState(StrEnum):
    """The seller's account at the PSP, as our row mirrors it."""

    ONBOARDING = "onboarding"  # not created at the PSP yet
    ACTIVE = "active"          # can be paid out
    RESTRICTED = "restricted"  # the PSP needs information (requirements due); payouts disabled meanwhile
    DISABLED = "disabled"      # the PSP disabled it


def account_state(*, created: bool, payouts_enabled: bool, requirements_due: bool, disabled_reason: str | None
                  ) -> AccountState:
    if not created:
        return AccountState.ONBOARDING
    if disabled_reason and disabled_reason.startswith("rejected"):
        return AccountState.DISABLED
    if payouts_enabled and not requirements_due and not disabled_reason:
        return AccountState.ACTIVE
    return AccountState.RESTRICTED


class BankAccountStatus(StrEnum):
    PENDING = "pending"  # given to us, not yet registered at the PSP
    ACTIVE = "active"
    ERRORED = "errored"  # a payout to it failed; payouts pause until it is replaced


def paused_reason(*, state: AccountState, bank: BankAccountStatus, available: int, minimum: int
                  ) -> PausedReason | None:
    """Why payouts are paused for a seller right now, or None if its next scheduled run can pay it."""
    if state is AccountState.DISABLED:
        return PausedReason.ACCOUNT_DISABLED
    if state is AccountState.ONBOARDING:
        return PausedReason.ONBOARDING
    if bank is BankAccountStatus.ERRORED:
        return PausedReason.BANK_ACCOUNT_ERRORED
    if bank is BankAccountStatus.PENDING:  # a replacement not registered yet: paying now would use the old one
        return PausedReason.BANK_ACCOUNT_PENDING
    if state is AccountState.RESTRICTED:
        return PausedReason.REQUIREMENTS_DUE
    if available < 0:
        return PausedReason.NEGATIVE_BALANCE
    if available < max(minimum, 1) and minimum > 0:
        return PausedReason.BELOW_MINIMUM
    return None


class ItemKind(StrEnum):
    """What one line of a payout's statement is."""

    PAYMENT_ORDER = "payment_order"  # a seller's share of a paid order became available
    REFUND = "refund"                # a refund taken from the available wallet (negative)
    REVERSAL = "reversal"            # a refund that failed and gave its reservation back
    ADJUSTMENT = "adjustment"        # money back from an earlier payout that failed, or a manual correction
