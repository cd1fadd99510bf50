"""Exponential backoff with jitter for job retries (delays become SQS visibility timeouts)."""

from __future__ import annotations

import random
from collections.abc import Callable

MAX_VISIBILITY_SECONDS = 43_200  # SQS maximum visibility timeout (12 h)


def backoff_seconds(
    attempt: int, *, base: int, cap: int, rand: Callable[[float, float], float] = random.uniform
) -> int:
    """Delay before attempt ``attempt + 1``: base·2^(attempt-1), capped, then "equal jitter".

    Half the delay is fixed and half random, so retries spread out but never come back immediately.
    """
    ceiling = min(cap, base << min(max(attempt - 1, 0), 30), MAX_VISIBILITY_SECONDS)
    return max(1, round(ceiling / 2 + rand(0, ceiling / 2)))
