"""Automatic payouts of connected accounts, by their payout schedule, run by the sandbox clock.

A schedule run happens at 00:00 UTC (sandbox time) of each payout day: every day (`daily`), on
`weekly_anchor` (`weekly`), or on `monthly_anchor` (`monthly`; the last day of shorter months). `manual`
means no automatic payouts. A run at time T pays out, per currency, the sum of the account's available
balance transactions not yet settled by an automatic payout that were created by T and whose funds are
available by T, leaving out incoming payments (`charge`, `payment`) younger than `delay_days` days. Those
transactions and the payout's own are linked to the payout, so `GET /v1/balance_transactions?payout=po_…`
itemizes it. A run is skipped (the transactions wait for the next one) while payouts are disabled, when the
account has no bank account for the currency or it is `errored`, or when the sum is zero. A negative sum is
left to the next run, unless `debit_negative_balances` is true and the available balance is negative: then
the run settles every unsettled transaction (held ones too), so it debits exactly the negative balance from
the bank account, as a payout with a negative amount.
"""

from __future__ import annotations

import calendar
import datetime

from psp_sandbox import params as p
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import invalid, missing
from psp_sandbox.resources import automatic_payouts
from psp_sandbox.store import Row

DAY = 86_400
DEFAULT = {"delay_days": 2, "interval": "daily"}
MINIMUM_DELAY = 2
INTERVALS = ("manual", "daily", "weekly", "monthly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TIMER = "scheduled_payout"


def parse(given: dict, current: dict) -> dict:
    """The new schedule from `settings[payouts][schedule][...]`, on top of the current one."""
    prefix = "settings[payouts][schedule]"
    interval = p.string(given, "interval") or current["interval"]
    if interval not in INTERVALS:
        raise invalid(f"Invalid {prefix}[interval]: must be one of {', '.join(INTERVALS)}", f"{prefix}[interval]")
    schedule: dict = {"delay_days": current["delay_days"], "interval": interval}
    if "delay_days" in given:
        raw = p.string(given, "delay_days")
        delay = MINIMUM_DELAY if raw == "minimum" else p.integer(given, "delay_days")
        if delay is None or not MINIMUM_DELAY <= delay <= 365:
            raise invalid(f"Invalid {prefix}[delay_days]: must be `minimum` or between {MINIMUM_DELAY} and 365",
                          f"{prefix}[delay_days]")
        schedule["delay_days"] = delay
    if interval == "weekly":
        anchor = p.string(given, "weekly_anchor") or current.get("weekly_anchor")
        if anchor is None:
            raise missing(f"{prefix}[weekly_anchor]")
        if anchor not in WEEKDAYS:
            raise invalid(f"Invalid {prefix}[weekly_anchor]: must be one of {', '.join(WEEKDAYS)}",
                          f"{prefix}[weekly_anchor]")
        schedule["weekly_anchor"] = anchor
    if interval == "monthly":
        anchor_day = p.integer(given, "monthly_anchor") if "monthly_anchor" in given else current.get("monthly_anchor")
        if anchor_day is None:
            raise missing(f"{prefix}[monthly_anchor]")
        if not 1 <= anchor_day <= 31:
            raise invalid(f"Invalid {prefix}[monthly_anchor]: must be between 1 and 31", f"{prefix}[monthly_anchor]")
        schedule["monthly_anchor"] = anchor_day
    return schedule


def next_run(schedule: dict, after: int) -> int | None:
    """The first payout day's midnight (UTC) strictly after `after`, or None for manual payouts."""
    interval = schedule["interval"]
    if interval == "manual":
        return None
    day = datetime.datetime.fromtimestamp(after, datetime.UTC).date() + datetime.timedelta(days=1)
    for _ in range(400):
        if _is_payout_day(schedule, day):
            return int(datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp())
        day += datetime.timedelta(days=1)
    raise AssertionError(f"no payout day for {schedule}")


def _is_payout_day(schedule: dict, day: datetime.date) -> bool:
    if schedule["interval"] == "daily":
        return True
    if schedule["interval"] == "weekly":
        return WEEKDAYS[day.weekday()] == schedule["weekly_anchor"]
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(schedule["monthly_anchor"], last)


def plan(sb: Sandbox, account: Row, after: int | None = None) -> None:
    """(Re)schedule the account's next automatic payout run; a run planned before is forgotten."""
    due = next_run(account["settings"]["payouts"]["schedule"], sb.clock.now() if after is None else after)
    account.private["next_payout_run"] = due
    sb.store.save(account)
    # A run planned before stays in the timers table and is skipped when it falls due (`run` checks the time):
    # deleting it here could delete the timer being handled, whose id the new one may then reuse.
    if due is not None:
        sb.store.add_timer(due, TIMER, f"{account['id']}:{due}")


def run(sb: Sandbox, timer_object: str) -> None:
    """A payout run fell due: pay out what is due per currency, then plan the next run."""
    account_id, _, due_text = timer_object.partition(":")
    account = sb.store.get(account_id, type_="account")
    if account is None or account.private.get("next_payout_run") != int(due_text):
        return  # the account was deleted or its schedule changed since this run was planned
    due = int(due_text)
    automatic_payouts.pay_out_due(sb, account, due)
    plan(sb, account, after=due)
