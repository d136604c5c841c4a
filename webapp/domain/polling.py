"""When to ask the PSP again about something that has gone quiet (a checkout still open, a payout in transit).

A lost webhook must be made up for quickly, but a checkout the buyer abandoned stays open at the PSP for a day
and a bank payout takes days: polling each of them every window would spend the PSP's rate limit on things
that have not changed, and — polled oldest first in batches — starve the recent ones. So the wait between two
polls grows with how long the thing has been quiet (doubling, in effect), never below the window and never
above the ceiling."""

from __future__ import annotations

from datetime import timedelta


def next_poll_after(quiet_for: timedelta, window: timedelta, ceiling: timedelta) -> timedelta:
    """The wait before the next poll of something that has had no news for `quiet_for`.

    Polled when first quiet for a window, then again after a window, two, four… (each wait as long as the quiet
    so far), the wait capped at `ceiling` (and never shorter than `window`, even with a smaller ceiling)."""
    return max(window, min(quiet_for, ceiling))
