"""Cold import of the staged edge and API assets, as Lambda sees them (read-only code, so nothing is
written back): with the bytecode staging ships against the same trees without it, in this run.

Each sample is a fresh `python -I -S -B` that imports the handler module from the asset folders only
(`-S`: no site-packages, so the API's dependencies come from the staged deps layer). The figure is the
median wall time minus the median of an interpreter that imports nothing, measured alongside."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.components.api import function_code_dir
from infra.components.edge import edge_asset_dir
from infra.components.layers import REQUIREMENTS, shared_layer_dir
from infra.config import EnvironmentConfig
from infra.packaging import PackagingError, deps_layer

SAMPLES = 7


def _cold_import(roots: list[Path], module: str) -> float:
    code = f"import sys; sys.path[:0] = {[str(root) for root in roots]!r}; import {module}"
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "dev", "POWERTOOLS_METRICS_NAMESPACE": "Bench"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], check=True, env=env)
    return time.perf_counter() - started


def _without_bytecode(roots: list[Path], into: Path) -> list[Path]:
    copies = []
    for index, root in enumerate(roots):
        copy = into / f"root{index}"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(copy)
    return copies


def _measure(label: str, roots: list[Path], module: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        bare = _without_bytecode(roots, Path(scratch))
        startup, shipped, compiled = [], [], []
        for _ in range(SAMPLES):  # interleaved, so drift on a shared machine hits both sides alike
            startup.append(_cold_import([], "sys"))
            compiled.append(_cold_import(bare, module))
            shipped.append(_cold_import(roots, module))
    base = statistics.median(startup)
    before = statistics.median(compiled) - base
    after = statistics.median(shipped) - base
    print(
        f"{label}: import {module} with shipped bytecode {after * 1000:,.0f} ms | baseline without bytecode "
        f"(compiled at every cold start) {before * 1000:,.0f} ms | ratio {after / before:.2f}x "
        f"(interpreter start {base * 1000:,.0f} ms excluded; median of {SAMPLES})"
    )


def main() -> None:
    edge = edge_asset_dir(EnvironmentConfig(name="dev", public_base_url="https://app.example.com"))
    _measure("edge asset", [edge], "edge.handler")
    try:
        deps = deps_layer(REQUIREMENTS, platform=None) / "python"
    except PackagingError as exc:
        print(f"API asset: skipped, the deps layer cannot be built here: {str(exc)[-300:]}")
        return
    _measure("API asset", [function_code_dir("api"), shared_layer_dir() / "python", deps], "api.main")


if __name__ == "__main__":
    main()
