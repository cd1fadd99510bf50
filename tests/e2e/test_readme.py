"""The local-stack walk-through (docs/local-stack.md), run verbatim: only the base URL points at the test stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

WALKTHROUGH = REPO_ROOT / "docs" / "local-stack.md"
BLOCK = re.compile(r"<!-- walkthrough:start -->\s*```sh\n(?P<script>.*?)```\s*<!-- walkthrough:end -->", re.S)


def walkthrough() -> str:
    match = BLOCK.search(WALKTHROUGH.read_text())
    assert match is not None, f"{WALKTHROUGH} has no walk-through block"
    return match["script"]


def test_the_readme_leads_to_the_walkthrough() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert "docs/local-stack.md" in readme
    assert len(readme.splitlines()) <= 300


def test_walkthrough_runs_verbatim(stack: RunningStack) -> None:
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.fail("the walk-through needs curl and jq on PATH (apt-get install -y curl jq)")
    script = walkthrough()
    assert "http://127.0.0.1:8000" in script
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("http://127.0.0.1:8000", stack.url)],
        cwd=REPO_ROOT,
        env={**os.environ, "SAAS_LOCAL_ROOT": str(stack.root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    out = result.stdout
    assert stack.state.stripe_webhook_secret in out  # `saas dev info` showed the signing secret
    assert stack.state.admin_database_url in out  # and the database URLs
    assert '"Apollo"' in out
    assert "(that was a 404)" in out
    assert re.search(r'"status": ?404', result.stderr)  # the failed request's problem+json is shown
    assert '"plan": "pro"' in out  # the webhook's effect reached the billing state, after the refresh
    assert "id,name,description,status,created_at,updated_at" in out  # the CSV report's header
    assert '"saas-jobs"' in out
