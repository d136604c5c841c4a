"""The wait between two polls of something quiet at the PSP grows with the quiet, within window and ceiling."""

import itertools
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.polling import next_poll_after

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def test_first_polls_come_a_window_apart_then_the_wait_doubles_up_to_the_ceiling():
    window = 5 * MINUTE
    polled_at, quiet_since = [], timedelta(0)
    now = window  # first polled once quiet for a window
    while now < timedelta(days=1):
        polled_at.append(now)
        now += next_poll_after(now - quiet_since, window, HOUR)
    assert polled_at[:5] == [5 * MINUTE, 10 * MINUTE, 20 * MINUTE, 40 * MINUTE, 80 * MINUTE]
    assert all(later - earlier == HOUR for earlier, later in itertools.pairwise(polled_at[4:]))
    assert len(polled_at) < 30  # a day open costs ~27 polls, not 288 (one per window)


@given(quiet=st.integers(0, 10**7), window=st.integers(0, 10**5), ceiling=st.integers(0, 10**6))
def test_the_wait_is_never_below_the_window_nor_above_the_ceiling_unless_the_window_is(quiet, window, ceiling):
    wait = next_poll_after(timedelta(seconds=quiet), timedelta(seconds=window), timedelta(seconds=ceiling))
    assert wait >= timedelta(seconds=window)
    assert wait <= max(timedelta(seconds=ceiling), timedelta(seconds=window))
    if window <= quiet <= ceiling:
        assert wait == timedelta(seconds=quiet)
