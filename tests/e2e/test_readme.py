"""The README's local-stack walk-through, run verbatim (only the base URL points at the test stack)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

BLOCK = re.compile(r"<!-- walkthrough:start -->\s*```sh\n(?P<script>.*?)```\s*<!-- walkthrough:end -->", re.S)


def walkthrough() -> str:
    match = BLOCK.search((REPO_ROOT / "README.md").read_text())
    assert match is not None, "README.md has no walk-through block"
    return match["script"]


def test_readme_walkthrough_runs_verbatim(stack: RunningStack) -> None:
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.fail("the walk-through needs curl and jq on PATH (apt-get install -y curl jq)")
    script = walkthrough().replace("http://127.0.0.1:8000", stack.url)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, "SAAS_LOCAL_ROOT": str(stack.root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    out = result.stdout
    assert '"Apollo"' in out
    assert '"plan": "pro"' in out  # the webhook's effect reached the billing state
    assert "id,name,description,status,created_at,updated_at" in out  # the CSV report's header
    assert '"saas-jobs"' in out
