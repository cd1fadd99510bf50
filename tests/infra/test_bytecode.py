"""Every Python asset in the synthesized cloud assembly ships bytecode its runtime loads without compiling:
unchecked hash-based pycs for CPython 3.11 beside every module, and every module imports from them with
source compilation made to fail."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.packaging import RUNTIME_CACHE_TAG, PackagingError, compile_bytecode
from tests.infra.conftest import Assembly

# Runs in a fresh interpreter: compiling any source under the asset raises, writing bytecode is off.
PROBE = """
import importlib, importlib._bootstrap_external as external, json, sys
roots, modules = json.loads(sys.argv[1])
sys.dont_write_bytecode = True
sys.path[:0] = roots
original = external.SourceLoader.source_to_code
def refuse(self, data, path, *, _optimize=-1):
    if any(str(path).startswith(root) for root in roots):
        raise AssertionError(f"compiled from source: {path}")
    return original(self, data, path, _optimize=_optimize)
external.SourceLoader.source_to_code = refuse
for name in modules:
    module = importlib.import_module(name)
    assert module.__spec__.cached and module.__spec__.origin.startswith(tuple(roots)), name
print(len(modules))
"""


def _python_assets(assembly: Assembly) -> dict[str, Path]:
    """asset folder name -> import root (a layer's modules live under `python/`)."""
    assets: dict[str, Path] = {}
    for folder in sorted(assembly.outdir.glob("asset.*")):
        if folder.is_dir() and any(folder.rglob("*.py")):
            root = folder / "python" if (folder / "python").is_dir() else folder
            assets[folder.name] = root
    return assets


def _modules(root: Path) -> list[str]:
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_every_python_asset_carries_unchecked_hash_pycs_for_cpython_311(assembly: Assembly) -> None:
    assets = _python_assets(assembly)
    # Edge, shared layer, api, webhooks, jobs and the custom-resource handlers at least.
    assert len(assets) >= 5, sorted(assets)
    for name, root in assets.items():
        for source in root.rglob("*.py"):
            pyc = source.parent / "__pycache__" / f"{source.stem}.{RUNTIME_CACHE_TAG}.pyc"
            assert pyc.is_file(), f"{name}: no bytecode for {source.relative_to(root)}"
            header = pyc.read_bytes()[:16]
            assert header[:4] == importlib.util.MAGIC_NUMBER, f"{name}: {pyc} is not CPython 3.11 bytecode"
            # PEP 552: flags 0b01 = hash-based, not checked against the source at import.
            assert int.from_bytes(header[4:8], "little") == 0b01
            assert header[8:16] == importlib.util.source_hash(source.read_bytes())


def test_every_module_of_every_asset_imports_without_compiling(assembly: Assembly) -> None:
    environment = {"PATH": "/usr/bin:/bin", "APP_ENV": "dev", "POWERTOOLS_METRICS_NAMESPACE": "Probe"}
    for name, root in _python_assets(assembly).items():
        # Layer folders import together (the shared layer uses the deps); function code sits beside them.
        roots = [str(root)] + [
            str(other) for other_name, other in _python_assets(assembly).items() if other.name == "python"
        ]
        modules = [m for m in _modules(root) if not m.endswith("__main__")]
        done = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps([roots, modules])],
            capture_output=True,
            text=True,
            check=False,
            env=environment,
            timeout=300,
        )
        assert done.returncode == 0, f"{name}:\n{done.stderr[-3000:]}"
        assert int(done.stdout.split()[-1]) == len(modules)


def test_a_module_that_does_not_compile_fails_staging(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def oops(:\n")
    with pytest.raises(PackagingError, match="do not compile"):
        compile_bytecode(tmp_path)


def test_bytecode_is_refused_from_another_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.implementation, "cache_tag", "cpython-312")
    with pytest.raises(PackagingError, match=r"CPython 3\.11 build interpreter"):
        compile_bytecode(tmp_path)
