from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.backoff import MAX_VISIBILITY_SECONDS, backoff_seconds


def low(a, b):
    return a


def high(a, b):
    return b


@pytest.mark.parametrize(
    ("attempt", "lowest", "highest"), [(1, 5, 10), (2, 10, 20), (3, 20, 40), (4, 40, 80), (9, 150, 300)]
)
def test_delay_doubles_per_attempt_with_half_of_it_jittered_and_capped(attempt, lowest, highest):
    assert backoff_seconds(attempt, base=10, cap=300, rand=low) == lowest
    assert backoff_seconds(attempt, base=10, cap=300, rand=high) == highest


@given(st.integers(min_value=1, max_value=10_000), st.integers(1, 600), st.integers(1, 100_000))
def test_delay_is_always_a_valid_visibility_timeout(attempt, base, cap):
    delay = backoff_seconds(attempt, base=base, cap=cap)
    assert delay >= 1
    assert delay <= min(cap, MAX_VISIBILITY_SECONDS)
