"""The Lambda@Edge asset: standard library plus `saascontracts` only, small, and cheap to import."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import edge
import saascontracts

PACKAGE_DIR = Path(edge.__file__).resolve().parent
CODE_ROOT = PACKAGE_DIR.parent
CONTRACTS_DIR = Path(saascontracts.__file__).resolve().parent
CONTRACTS_ROOT = CONTRACTS_DIR.parent
MAX_ZIPPED_BYTES = 100 * 1024
# Imported lazily by edge (only when fetching) or never: each costs milliseconds of cold start.
HEAVY_MODULES = (
    "dataclasses",
    "inspect",
    "typing",
    "uuid",
    "pathlib",
    "urllib.request",
    "http.client",
    "ssl",
    "email",
    "logging",
    "asyncio",
)

PROBE = r"""
import json, sys, time
started = time.process_time()
import edge.handler
import_ms = (time.process_time() - started) * 1000
loaded = sorted({name.split(".")[0] for name in sys.modules})
foreign = [
    name for name in loaded
    if name not in ("edge", "saascontracts", "__main__") and name not in sys.stdlib_module_names
]
heavy = [name for name in HEAVY if name in sys.modules]
edge.handler.configure(CONFIG)
response = edge.handler.viewer_request(EVENT)
print(json.dumps({"foreign": foreign, "heavy": heavy, "status": response.get("status"), "import_ms": import_ms}))
"""


def test_asset_imports_and_runs_with_only_the_standard_library() -> None:
    event = json.loads(
        (Path(__file__).resolve().parents[2] / "events" / "cloudfront" / "viewer-request.json").read_text()
    )
    event["Records"][0]["cf"]["request"]["uri"] = "/api/v1/projects"
    config = {
        "issuers": [{"issuer": "https://idp.test", "audiences": ["a"], "jwks_url": "https://idp.test/jwks"}]
    }
    script = f"HEAVY = {HEAVY_MODULES!r}\nCONFIG = {config!r}\nEVENT = {event!r}\n" + PROBE
    completed = subprocess.run(
        [
            sys.executable,
            "-S",
            "-I",
            "-c",
            f"import sys; sys.path[:0] = [{str(CODE_ROOT)!r}, {str(CONTRACTS_ROOT)!r}]\n" + script,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    print(f"edge.handler import in a bare interpreter: {result['import_ms']:.1f} ms CPU")
    assert result["foreign"] == []
    assert result["heavy"] == []
    assert result["status"] == "401"


def test_asset_zipped_is_small() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for package, folder in (("edge", PACKAGE_DIR), ("saascontracts", CONTRACTS_DIR)):
            for path in sorted(folder.rglob("*.py")):
                archive.write(path, f"{package}/{path.relative_to(folder)}")
    size = len(buffer.getvalue())
    print(f"edge asset zipped: {size} bytes")
    assert 0 < size <= MAX_ZIPPED_BYTES
