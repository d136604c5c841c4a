"""Pay-out rules: schedules and their periods, how much is paid, statuses, and why payouts pause."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.errors import ValidationError
from webapp.domain.payouts import (
    WEEKDAYS,
    AccountState,
    BankAccountStatus,
    Interval,
    PausedReason,
    PayoutStatus,
    Schedule,
    account_state,
    is_period,
    manual_period,
    next_payout_status,
    paused_reason,
    payout_amount,
    payout_day_of_month,
    period_of,
)

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
schedules = st.one_of(
    st.just(Schedule(Interval.DAILY)),
    st.sampled_from(WEEKDAYS).map(lambda d: Schedule(Interval.WEEKLY, weekly_anchor=d)),
    st.integers(1, 31).map(lambda d: Schedule(Interval.MONTHLY, monthly_anchor=d)),
    st.just(Schedule(Interval.MANUAL)),
)


def test_daily_pays_every_day_with_the_day_as_its_period():
    assert period_of(Schedule(), date(2026, 11, 30)) == "2026-11-30"


def test_weekly_pays_on_its_anchor_day_once_per_iso_week():
    friday = Schedule(Interval.WEEKLY, weekly_anchor="friday")
    assert period_of(friday, date(2026, 11, 27)) == "2026-W48"
    assert period_of(friday, date(2026, 11, 26)) is None and period_of(friday, date(2026, 11, 28)) is None


@pytest.mark.parametrize(("anchor", "year", "month", "day"), [
    (31, 2026, 2, 28), (30, 2026, 2, 28), (29, 2028, 2, 29), (31, 2026, 4, 30), (31, 2026, 5, 31), (15, 2026, 2, 15),
    (1, 2026, 3, 1)])
def test_monthly_anchors_29_to_31_fall_back_to_the_months_last_day(anchor, year, month, day):
    assert payout_day_of_month(anchor, year, month) == day
    schedule = Schedule(Interval.MONTHLY, monthly_anchor=anchor)
    assert period_of(schedule, date(year, month, day)) == f"{year}-{month:02d}"
    assert period_of(schedule, date(year, month, day) - timedelta(days=1)) is None


def test_manual_schedules_are_never_due_and_pay_now_is_a_period_of_its_own():
    assert all(period_of(Schedule(Interval.MANUAL), date(2026, 1, 1) + timedelta(days=n)) is None
               for n in range(400))
    assert manual_period("pyt_1") == "now:pyt_1" and is_period("now:pyt_1") and is_period("2026-W01")


@given(schedule=schedules, start=days)
def test_a_seller_is_paid_at_most_once_per_schedule_period(schedule, start):
    periods = [period_of(schedule, start + timedelta(days=n)) for n in range(120)]
    paid = [p for p in periods if p is not None]
    assert len(paid) == len(set(paid))  # every payout day opens a new period
    if schedule.interval is Interval.DAILY:
        assert len(paid) == 120
    elif schedule.interval is Interval.WEEKLY:
        assert 17 <= len(paid) <= 18
    elif schedule.interval is Interval.MONTHLY:
        assert 3 <= len(paid) <= 5
    else:
        assert paid == []


@given(available=st.integers(-10**9, 10**9), minimum=st.integers(0, 10**6))
def test_never_more_than_available_and_never_below_the_minimum(available, minimum):
    amount = payout_amount(available, minimum)
    if amount is None:
        assert available <= 0 or available < minimum
    else:
        assert amount == available and amount > 0 and amount >= minimum


def test_payout_amount_boundaries():
    assert payout_amount(1, 0) == 1 and payout_amount(0, 0) is None and payout_amount(-5, 0) is None
    assert payout_amount(999, 1000) is None and payout_amount(1000, 1000) == 1000
    with pytest.raises(ValueError):
        payout_amount(10, -1)
    with pytest.raises(ValueError):
        payout_amount(10.0, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("document", "param"), [
    ({"interval": "hourly"}, "payout_schedule[interval]"),
    ({"interval": "weekly"}, "payout_schedule[weekly_anchor]"),
    ({"interval": "weekly", "weekly_anchor": "funday"}, "payout_schedule[weekly_anchor]"),
    ({"interval": "monthly"}, "payout_schedule[monthly_anchor]"),
    ({"interval": "monthly", "monthly_anchor": 32}, "payout_schedule[monthly_anchor]"),
    ({"interval": "monthly", "monthly_anchor": 0}, "payout_schedule[monthly_anchor]"),
    ({"interval": "daily", "monthly_anchor": 3}, "payout_schedule[monthly_anchor]"),
    ({"interval": "daily", "weekly_anchor": "monday"}, "payout_schedule[weekly_anchor]"),
    ({"interval": "daily", "delay_days": -1}, "payout_schedule[delay_days]"),
    ({"interval": "daily", "delay_days": 366}, "payout_schedule[delay_days]"),
    ({"interval": "daily", "delay_days": "2"}, "payout_schedule[delay_days]"),
    ({"interval": "daily", "every": 2}, "payout_schedule[every]"),
])
def test_bad_schedules_are_refused_naming_the_field(document, param):
    with pytest.raises(ValidationError) as refused:
        Schedule.from_json(document)
    assert refused.value.param == param


def test_a_schedule_reads_back_what_it_writes():
    schedule = Schedule.from_json({"interval": "weekly", "weekly_anchor": "Monday", "delay_days": 3})
    assert schedule == Schedule(Interval.WEEKLY, "monday", None, 3)
    assert Schedule.from_json(schedule.as_json()) == schedule
    assert schedule.describe().startswith("Every Monday")


def test_statuses_only_move_forward_except_a_banks_late_return():
    assert next_payout_status(PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT).changed
    assert not next_payout_status(PayoutStatus.IN_TRANSIT, PayoutStatus.PENDING).changed
    assert not next_payout_status(PayoutStatus.PAID, PayoutStatus.IN_TRANSIT).changed
    late = next_payout_status(PayoutStatus.PAID, PayoutStatus.FAILED)
    assert late.changed and late.unpays and late.returns_money
    failed = next_payout_status(PayoutStatus.IN_TRANSIT, PayoutStatus.FAILED)
    assert failed.returns_money and not failed.unpays
    assert not next_payout_status(PayoutStatus.FAILED, PayoutStatus.PAID).changed
    assert not next_payout_status(PayoutStatus.CANCELED, PayoutStatus.PAID).changed
    assert not next_payout_status(PayoutStatus.PAID, PayoutStatus.PAID).returns_money
    assert next_payout_status(PayoutStatus.PENDING, PayoutStatus.CANCELED).returns_money
    assert not next_payout_status(PayoutStatus.IN_TRANSIT, PayoutStatus.CANCELED).changed  # too late to cancel


@given(st.lists(st.sampled_from(list(PayoutStatus)), max_size=12))
def test_duplicated_news_changes_nothing_and_settled_payouts_stay_settled(reports):
    once = twice = PayoutStatus.PENDING
    for reported in reports:
        before = once
        once = next_payout_status(once, reported).after
        twice = next_payout_status(next_payout_status(twice, reported).after, reported).after
        assert once is twice
        if before in (PayoutStatus.FAILED, PayoutStatus.CANCELED):
            assert once is before  # money already returned is never paid again by stale news


def test_account_state_mirrors_the_psp():
    assert account_state(created=False, payouts_enabled=False, requirements_due=False, disabled_reason=None) \
        is AccountState.ONBOARDING
    assert account_state(created=True, payouts_enabled=True, requirements_due=False, disabled_reason=None) \
        is AccountState.ACTIVE
    assert account_state(created=True, payouts_enabled=False, requirements_due=True,
                         disabled_reason="requirements.past_due") is AccountState.RESTRICTED
    assert account_state(created=True, payouts_enabled=True, requirements_due=True, disabled_reason=None) \
        is AccountState.RESTRICTED
    assert account_state(created=True, payouts_enabled=False, requirements_due=False,
                         disabled_reason="rejected.fraud") is AccountState.DISABLED


@pytest.mark.parametrize(("state", "bank", "available", "minimum", "reason"), [
    (AccountState.ACTIVE, BankAccountStatus.ACTIVE, 100, 0, None),
    (AccountState.ACTIVE, BankAccountStatus.ACTIVE, 0, 0, None),
    (AccountState.ACTIVE, BankAccountStatus.ERRORED, 100, 0, PausedReason.BANK_ACCOUNT_ERRORED),
    (AccountState.RESTRICTED, BankAccountStatus.ACTIVE, 100, 0, PausedReason.REQUIREMENTS_DUE),
    (AccountState.RESTRICTED, BankAccountStatus.ERRORED, 100, 0, PausedReason.BANK_ACCOUNT_ERRORED),
    (AccountState.ACTIVE, BankAccountStatus.ACTIVE, -1, 0, PausedReason.NEGATIVE_BALANCE),
    (AccountState.ACTIVE, BankAccountStatus.ACTIVE, 999, 1000, PausedReason.BELOW_MINIMUM),
    (AccountState.ACTIVE, BankAccountStatus.ACTIVE, 1000, 1000, None),
    (AccountState.ONBOARDING, BankAccountStatus.PENDING, 100, 0, PausedReason.ONBOARDING),
    (AccountState.ACTIVE, BankAccountStatus.PENDING, 100, 0, PausedReason.BANK_ACCOUNT_PENDING),
    (AccountState.RESTRICTED, BankAccountStatus.PENDING, 100, 0, PausedReason.BANK_ACCOUNT_PENDING),
    (AccountState.DISABLED, BankAccountStatus.ACTIVE, 100, 0, PausedReason.ACCOUNT_DISABLED),
])
def test_why_payouts_pause_most_urgent_first(state, bank, available, minimum, reason):
    assert paused_reason(state=state, bank=bank, available=available, minimum=minimum) is reason
