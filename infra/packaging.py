"""Asset staging for Lambda code and layers, without Docker.

Code trees are copied into content-addressed folders under `build/cdk/` (so identical input gives an
identical asset hash); the dependency layer is a `pip install --target` for the Lambda platform, cached
by the hash of the requirements file and the platform, so a warm synth needs neither Docker nor network.
Every staged tree ships bytecode for the runtime's interpreter (`compile_bytecode`): Lambda's code
folders are read-only, so without it every cold start compiles every module it imports.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from py_compile import PycInvalidationMode

REPO_ROOT = Path(__file__).resolve().parent.parent
# The stdlib-only edge↔origin contracts, staged into both the edge asset and the shared layer.
CONTRACTS_PACKAGE = REPO_ROOT / "contracts" / "saascontracts"
STAGING_ROOT = REPO_ROOT / "build" / "cdk"
IGNORED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
IGNORED_SUFFIXES = frozenset({".pyc", ".pyo"})


class PackagingError(RuntimeError):
    """An asset could not be built (for example pip could not reach the index with a cold cache)."""


@dataclass(frozen=True, slots=True)
class Platform:
    """A pip target: the Lambda runtime's platform tag and Python version."""

    pip_platforms: tuple[str, ...]
    python_version: str

    @property
    def key(self) -> str:
        # No dots: CDK would read anything after one as a file extension in the staged asset's name.
        return f"{self.pip_platforms[0]}-py{self.python_version.replace('.', '')}"


# Lambda's python3.11 runtime (x86_64, Amazon Linux 2, glibc 2.26): manylinux2014 wheels only. The build
# interpreter is CPython 3.11, so the bytecode it writes is the runtime's (docs/decisions/0051).
LAMBDA_PLATFORM = Platform(pip_platforms=("manylinux2014_x86_64",), python_version="3.11")
RUNTIME_CACHE_TAG = "cpython-311"  # what `sys.implementation.cache_tag` is on the Lambda runtime


def cache_root() -> Path:
    """Dependency layers outlive a clone: they are keyed by content, so sharing them is safe."""
    configured = os.environ.get("SAAS_LAYER_CACHE")
    base = Path(configured) if configured else Path.home() / ".cache" / "saas-platform"
    return base / "deps-layers"


def _source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (
            path.is_file()
            and not IGNORED_PARTS.intersection(relative.parts)
            and path.suffix not in IGNORED_SUFFIXES
        ):
            yield path


def _tree_digest(sources: Mapping[str, Path], files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256(RUNTIME_CACHE_TAG.encode())
    for destination, source in sorted(sources.items()):
        for path in _source_files(source):
            digest.update(f"{destination}/{path.relative_to(source).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    for name, content in sorted(files.items()):
        digest.update(f"{name}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:20]


def _publish(build: Path, target: Path) -> Path:
    """Atomic rename: a concurrent synth either sees the whole folder or builds its own copy."""
    try:
        build.rename(target)
    except OSError:
        shutil.rmtree(build, ignore_errors=True)
        if not target.is_dir():
            raise
    return target


def stage_tree(name: str, *, sources: Mapping[str, Path], files: Mapping[str, bytes] | None = None) -> Path:
    """Copy `sources` (destination folder -> source folder) and literal `files` into one asset folder."""
    extra = dict(files or {})
    target = STAGING_ROOT / f"{name}-{_tree_digest(sources, extra)}"
    if target.is_dir():
        return target
    STAGING_ROOT.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=STAGING_ROOT))
    for destination, source in sources.items():
        for path in _source_files(source):
            copy = build / destination / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
    for relative, content in extra.items():
        (build / relative).parent.mkdir(parents=True, exist_ok=True)
        (build / relative).write_bytes(content)
    compile_bytecode(build)
    return _publish(build, target)


def compile_bytecode(folder: Path) -> None:
    """Write `__pycache__/<module>.cpython-311.pyc` beside every module under `folder`.

    Unchecked hash-based pycs: the interpreter loads them without reading the source or comparing
    mtimes (a zip round trip changes those), which is safe because a deployed asset never changes. Their
    bytes depend only on the source, so the staged folder's digest and CDK's asset hash stay stable.
    """
    if sys.implementation.cache_tag != RUNTIME_CACHE_TAG:
        raise PackagingError(
            f"bytecode for the Lambda runtime ({RUNTIME_CACHE_TAG}) needs a CPython 3.11 build "
            f"interpreter; this one is {sys.implementation.cache_tag}"
        )
    compiled = compileall.compile_dir(
        folder,
        quiet=1,
        workers=1,
        invalidation_mode=PycInvalidationMode.UNCHECKED_HASH,
        stripdir=str(folder),
    )
    if not compiled:
        raise PackagingError(f"some modules under {folder} do not compile (syntax errors above)")


def pip_install_target(requirements: Path, *, target: Path, platform: Platform | None) -> None:
    """`pip install --target` of wheels only; `platform=None` installs for this interpreter."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--requirement",
        str(requirements),
        "--target",
        str(target),
    ]
    if platform is not None:
        for tag in platform.pip_platforms:
            command += ["--platform", tag]
        command += [
            "--python-version",
            platform.python_version,
            "--implementation",
            "cp",
        ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise PackagingError(
            f"pip install for {platform or 'this interpreter'} failed:\n{result.stderr[-2000:]}"
        )


def deps_layer(requirements: Path, *, platform: Platform | None) -> Path:
    """A layer folder (`python/` inside) with the pinned requirements installed, cached by content."""
    platform_key = platform.key if platform else f"local-{sys.implementation.cache_tag}-{os.uname().machine}"
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{platform_key}-{RUNTIME_CACHE_TAG}".encode())
    target = cache_root() / f"{platform_key}-{digest.hexdigest()[:20]}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".deps-", dir=target.parent))
    try:
        pip_install_target(requirements, target=build / "python", platform=platform)
        compile_bytecode(build)
    except PackagingError:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return _publish(build, target)
