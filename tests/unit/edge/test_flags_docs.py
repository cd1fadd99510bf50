"""Every command shown in docs/flags.md runs as written."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import REPO_ROOT

BLOCK = re.compile(r"```sh\n(?P<script>.*?)```", re.S)
COMMANDS = [
    line
    for match in BLOCK.finditer((REPO_ROOT / "docs" / "flags.md").read_text())
    for line in match["script"].splitlines()
    if line.strip()
]


def test_the_page_shows_commands() -> None:
    assert len(COMMANDS) >= 3


@pytest.mark.parametrize("command", COMMANDS)
def test_command_runs(command: str) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "x-flags: " in result.stdout or '"checkout-button"' in result.stdout
