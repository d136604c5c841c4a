"""Payout schedules as merchants send and read them: each refusal's code, param and message, the defaults, the
words the portal shows, and when a small balance pauses payouts."""

import pytest

from webapp.domain.errors import ValidationError
from webapp.domain.payouts import (
    PAUSED_WORDS,
    UNSETTLED,
    AccountState,
    BankAccountStatus,
    Interval,
    PausedReason,
    PayoutStatus,
    Schedule,
    is_period,
    next_payout_status,
    paused_reason,
    payout_amount,
)

P = "payout_schedule"
REFUSALS = [  # (document, code, param, message)
    ("daily", "parameter_invalid", P, "payout_schedule must be an object."),
    ({"interval": "daily", "every": 2, "at": "9:00"}, "parameter_unknown", f"{P}[at]", "Unknown field 'at'."),
    ({"interval": "hourly"}, "parameter_invalid", f"{P}[interval]",
     "interval must be one of daily, weekly, monthly, manual."),
    ({}, "parameter_invalid", f"{P}[interval]", "interval must be one of daily, weekly, monthly, manual."),
    ({"interval": "weekly", "weekly_anchor": 1}, "parameter_invalid", f"{P}[weekly_anchor]",
     "weekly_anchor must be a weekday name."),
    ({"interval": "weekly"}, "parameter_invalid", f"{P}[weekly_anchor]",
     "A weekly schedule needs weekly_anchor: one of monday, tuesday, wednesday, thursday, friday, saturday, sunday."),
    ({"interval": "daily", "weekly_anchor": "monday"}, "parameter_invalid", f"{P}[weekly_anchor]",
     "weekly_anchor applies to weekly schedules only."),
    ({"interval": "monthly", "monthly_anchor": "1"}, "parameter_invalid", f"{P}[monthly_anchor]",
     "monthly_anchor must be an integer."),
    ({"interval": "monthly", "monthly_anchor": 32}, "parameter_invalid", f"{P}[monthly_anchor]",
     "A monthly schedule needs monthly_anchor: a day of the month, 1 to 31."),
    ({"interval": "weekly", "weekly_anchor": "friday", "monthly_anchor": 5}, "parameter_invalid",
     f"{P}[monthly_anchor]", "monthly_anchor applies to monthly schedules only."),
    ({"interval": "daily", "delay_days": 1.0}, "parameter_invalid", f"{P}[delay_days]",
     "delay_days must be an integer."),
    ({"interval": "daily", "delay_days": 366}, "parameter_invalid", f"{P}[delay_days]",
     "delay_days must be a whole number of days from 0 to 365."),
]


@pytest.mark.parametrize(("document", "code", "param", "message"), REFUSALS)
def test_every_schedule_refusal_names_its_code_param_and_reason(document, code, param, message):
    with pytest.raises(ValidationError) as raised:
        Schedule.from_json(document)
    assert (raised.value.code, raised.value.param, raised.value.message) == (code, param, message)


def test_a_schedule_inside_another_request_names_its_path():
    with pytest.raises(ValidationError) as raised:
        Schedule.from_json({"interval": "weekly", "weekly_anchor": 3}, param="defaults[payout_schedule]")
    assert raised.value.param == "defaults[payout_schedule][weekly_anchor]"


def test_defaults_and_limits():
    assert Schedule.from_json({"interval": "daily"}) == Schedule(Interval.DAILY, None, None, 0)
    assert Schedule.from_json({"interval": "daily", "delay_days": None}).delay_days == 0
    assert Schedule.from_json({"interval": "daily", "delay_days": 365}).delay_days == 365
    assert Schedule.from_json({"interval": "monthly", "monthly_anchor": 31}).monthly_anchor == 31
    assert Schedule.from_json({"interval": "weekly", "weekly_anchor": "SUNDAY"}).weekly_anchor == "sunday"


@pytest.mark.parametrize(("schedule", "words"), [
    (Schedule(), "Every day"),
    (Schedule(Interval.DAILY, delay_days=1), "Every day, 1 day after funds are available"),
    (Schedule(Interval.DAILY, delay_days=2), "Every day, 2 days after funds are available"),
    (Schedule(Interval.WEEKLY, weekly_anchor="friday"), "Every Friday"),
    (Schedule(Interval.WEEKLY, weekly_anchor="monday", delay_days=7),
     "Every Monday, 7 days after funds are available"),
    (Schedule(Interval.MONTHLY, monthly_anchor=31), "Monthly on day 31 (or the month's last day)"),
    (Schedule(Interval.MANUAL), "Manual: only when you press Pay out now or call POST /v1/payouts"),
])
def test_the_portal_describes_each_schedule_in_words(schedule, words):
    assert schedule.describe() == words


@pytest.mark.parametrize(("available", "minimum", "reason"), [
    (0, 1, PausedReason.BELOW_MINIMUM),  # nothing to pay under a minimum of 0.01
    (1, 1, None),
    (1, 2, PausedReason.BELOW_MINIMUM),
    (0, 0, None),  # no minimum: an empty wallet is simply not paid, not "paused"
])
def test_a_minimum_pauses_payouts_only_below_it(available, minimum, reason):
    assert paused_reason(state=AccountState.ACTIVE, bank=BankAccountStatus.ACTIVE, available=available,
                         minimum=minimum) is reason


def test_repeated_final_news_returns_no_money_twice():
    for final in (PayoutStatus.FAILED, PayoutStatus.CANCELED):
        again = next_payout_status(final, final)
        assert not again.changed and not again.returns_money and not again.unpays


def test_payouts_pending_or_in_transit_are_the_ones_not_settled():
    """The ledger check compares `payouts_in_transit` with exactly these payouts."""
    assert {s for s in PayoutStatus if s in UNSETTLED} == {PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT}


def test_every_pause_reason_has_words_for_the_portal():
    assert set(PAUSED_WORDS) == set(PausedReason) and all(w.endswith(".") for w in PAUSED_WORDS.values())


@pytest.mark.parametrize(("value", "valid"), [
    ("2026-11-30", True), ("2026-W48", True), ("2026-11", True), ("now:pyt_1", True),
    ("now:", False), ("2026-W4", False), ("26-11-30", False), ("2026-11-30x", False), ("later:pyt_1", False),
])
def test_what_counts_as_a_payout_period(value, valid):
    assert is_period(value) is valid


@pytest.mark.parametrize(("available", "minimum"), [(10.0, 0), (10, 0.5), (10, -1), ("10", 0)])
def test_payout_amount_refuses_anything_but_integers_and_a_non_negative_minimum(available, minimum):
    with pytest.raises(ValueError) as raised:
        payout_amount(available, minimum)
    assert str(raised.value) == "balances and minimums are integers of minor units; the minimum is not negative"
