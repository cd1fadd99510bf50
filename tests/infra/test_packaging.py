"""Asset staging without Docker: content-addressed folders, cached dependency layers, Lambda size limits."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import packaging
from infra.packaging import LAMBDA_PLATFORM, PackagingError, deps_layer, stage_tree

EDGE_VIEWER_ZIP_LIMIT = 1024 * 1024  # Lambda@Edge viewer triggers: 1 MB zipped
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function + layers, unzipped


def _zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


def _tree_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def test_stage_tree_is_content_addressed_and_compiles_its_own_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packaging, "STAGING_ROOT", tmp_path / "staging")
    source = tmp_path / "pkg"
    (source / "__pycache__").mkdir(parents=True)
    (source / "mod.py").write_text("X = 1\n")
    (source / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"junk")
    first = stage_tree("probe", sources={"pkg": source}, files={"pkg/config.json": b"{}"})
    assert stage_tree("probe", sources={"pkg": source}, files={"pkg/config.json": b"{}"}) == first
    assert sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()) == [
        "pkg/__pycache__/mod.cpython-311.pyc",
        "pkg/config.json",
        "pkg/mod.py",
    ]
    # The source tree's stale pyc is never copied: the staged one is compiled from the staged source.
    assert (first / "pkg" / "__pycache__" / "mod.cpython-311.pyc").read_bytes() != b"junk"
    (source / "mod.py").write_text("X = 2\n")
    assert stage_tree("probe", sources={"pkg": source}, files={"pkg/config.json": b"{}"}) != first


def test_a_cached_deps_layer_needs_no_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAAS_LAYER_CACHE", str(tmp_path))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("example==1.0\n")
    calls: list[Path] = []

    def fake_pip(requirements: Path, *, target: Path, platform: object) -> None:
        calls.append(target)
        target.mkdir(parents=True)
        (target / "example.py").write_text("")

    monkeypatch.setattr(packaging, "pip_install_target", fake_pip)
    built = deps_layer(requirements, platform=LAMBDA_PLATFORM)
    assert deps_layer(requirements, platform=LAMBDA_PLATFORM) == built
    assert len(calls) == 1
    assert (built / "python" / "example.py").is_file()
    requirements.write_text("example==2.0\n")
    assert deps_layer(requirements, platform=LAMBDA_PLATFORM) != built


def test_a_failed_pip_install_leaves_no_half_built_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAAS_LAYER_CACHE", str(tmp_path))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("missing==0\n")

    def failing_pip(requirements: Path, *, target: Path, platform: object) -> None:
        target.mkdir(parents=True)
        raise PackagingError("no index")

    monkeypatch.setattr(packaging, "pip_install_target", failing_pip)
    with pytest.raises(PackagingError):
        deps_layer(requirements, platform=LAMBDA_PLATFORM)
    assert list((tmp_path / "deps-layers").iterdir()) == []


def test_edge_asset_fits_the_viewer_trigger_limit() -> None:
    from infra.components.edge import edge_asset_dir
    from infra.config import EnvironmentConfig

    asset = edge_asset_dir(EnvironmentConfig(name="dev", public_base_url="https://app.example.com"))
    assert _zipped_size(asset) < EDGE_VIEWER_ZIP_LIMIT


# Run in a bare interpreter with only the staged edge asset on sys.path: import every module of both
# packages and report anything loaded from outside the standard library.
_EDGE_IMPORT_PROBE = r"""
import importlib, json, pkgutil, sys
sys.path[:0] = [ASSET]
for package in ("edge", "saascontracts"):
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__, package + "."):
        importlib.import_module(info.name)
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps([name for name in loaded if name not in sys.stdlib_module_names and name != "__main__"]))
"""


def test_edge_asset_holds_only_what_the_edge_runs() -> None:
    from infra.components.edge import edge_asset_dir
    from infra.config import EnvironmentConfig

    asset = edge_asset_dir(EnvironmentConfig(name="dev", public_base_url="https://app.example.com"))
    assert sorted(path.name for path in asset.iterdir()) == ["edge", "saascontracts"]
    script = f"ASSET = {str(asset)!r}\n" + _EDGE_IMPORT_PROBE
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == ["edge", "saascontracts"]


def test_shared_layer_ships_the_contracts_not_the_edge_function() -> None:
    from infra.components.layers import shared_layer_dir

    python = shared_layer_dir() / "python"
    packages = {path.name for path in python.iterdir()}
    assert "edge" not in packages
    assert {"saascontracts", "saascore"} <= packages
    assert (python / "saascontracts" / "tokens.py").is_file()


def test_origin_functions_fit_lambdas_unzipped_limit() -> None:
    from infra.components.layers import REQUIREMENTS, shared_layer_dir

    try:
        deps = deps_layer(REQUIREMENTS, platform=None)
    except PackagingError as exc:
        reason = f"pip cannot build the deps layer here: {str(exc)[-200:]}"
        print(reason)
        pytest.skip(reason)
    largest_code = max(
        _tree_size(packaging.REPO_ROOT / "functions" / name) for name in ("api", "webhooks", "jobs")
    )
    assert largest_code + _tree_size(shared_layer_dir()) + _tree_size(deps) < LAMBDA_UNZIPPED_LIMIT
