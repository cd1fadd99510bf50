"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], *, repeat: int = 7, number: int = 1000) -> float:
    """Median over ``repeat`` runs of the mean time of one call, each run calling ``fn`` ``number`` times."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - started) / number)
    return statistics.median(samples)


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def ratio_line(label: str, value: float, baseline_label: str, baseline: float) -> str:
    return (
        f"{label}: {fmt_us(value)}  | {baseline_label}: {fmt_us(baseline)}  | ratio {value / baseline:.2f}x"
    )
