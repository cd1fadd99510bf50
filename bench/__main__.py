"""Run every `bench/bench_*.py` module (or those named on the command line) in turn.

Each module exposes ``main() -> None`` and prints its own figures as ratios to a baseline it measures in
the same process, because machines here are noisy. Each runs in a fresh interpreter, so the environment,
cached settings and database connections one benchmark sets up never reach the next. Nothing fails on
speed.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")
    )
    selected = [name for name in names if not argv or any(arg in name for arg in argv)]
    failures = 0
    for name in selected:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", f"import bench.{name} as b; b.main()"], check=False)
        print(f"--- {name}: {time.perf_counter() - started:.1f} s (exit {done.returncode})", flush=True)
        failures += done.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
