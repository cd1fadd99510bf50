"""Run every `bench/bench_*.py` module (or those named on the command line) in turn.

Each module exposes ``main() -> None`` and prints its own figures as ratios to a baseline it measures in
the same process, because machines here are noisy. Nothing fails on speed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")
    )
    selected = [name for name in names if not argv or any(arg in name for arg in argv)]
    for name in selected:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").main()
        print(f"--- {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
