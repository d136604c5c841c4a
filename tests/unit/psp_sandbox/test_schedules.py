"""When scheduled payouts run: 00:00 UTC of each payout day, strictly after the given moment."""

from __future__ import annotations

import datetime

import pytest

from psp_sandbox.errors import StripeError
from psp_sandbox.resources.schedules import next_run, parse


def _at(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp())


@pytest.mark.parametrize(("schedule", "after", "expected"), [
    ({"interval": "daily", "delay_days": 2}, "2026-11-30 10:00", "2026-12-01 00:00"),
    ({"interval": "daily", "delay_days": 2}, "2026-12-01 00:00", "2026-12-02 00:00"),
    ({"interval": "weekly", "delay_days": 2, "weekly_anchor": "friday"}, "2026-11-30 10:00", "2026-12-04 00:00"),
    ({"interval": "weekly", "delay_days": 2, "weekly_anchor": "monday"}, "2026-11-30 10:00", "2026-12-07 00:00"),
    ({"interval": "monthly", "delay_days": 2, "monthly_anchor": 15}, "2026-11-30 10:00", "2026-12-15 00:00"),
    ({"interval": "monthly", "delay_days": 2, "monthly_anchor": 31}, "2027-02-01 00:00", "2027-02-28 00:00"),
    ({"interval": "monthly", "delay_days": 2, "monthly_anchor": 31}, "2027-04-01 00:00", "2027-04-30 00:00"),
])
def test_next_run(schedule, after, expected):
    assert next_run(schedule, _at(after)) == _at(expected)


def test_manual_has_no_run():
    assert next_run({"interval": "manual", "delay_days": 2}, _at("2026-11-30 10:00")) is None


def test_parse_keeps_what_is_not_given_and_checks_anchors():
    current = {"interval": "daily", "delay_days": 2}
    assert parse({"interval": "weekly", "weekly_anchor": "friday"}, current) == {
        "interval": "weekly", "delay_days": 2, "weekly_anchor": "friday"}
    assert parse({"delay_days": "minimum"}, {"interval": "daily", "delay_days": 7}) == current
    with pytest.raises(StripeError):
        parse({"interval": "monthly"}, current)
