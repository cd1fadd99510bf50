"""A local stack started once per test session (`saas dev` in a subprocess), reached over real HTTP.

Ports are free ones and the state directory is a temporary one, so the run never touches a developer's
`.local/` or a stack already listening on 8000. Helpers here mirror the README walk-through.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.postgres import free_port
from local.state import STATE_FILE, StackState

START_TIMEOUT_SECONDS = 180.0
E2E_WEBHOOK_SECRET = "whsec_e2e_" + secrets.token_hex(16)
WEBHOOKS_VISIBILITY_SECONDS = 3  # failed webhook batches come back quickly, so redrive is seen in seconds


@dataclass
class RunningStack:
    url: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]
    postgres_port: int

    @property
    def state(self) -> StackState:
        return StackState.load(self.root)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def saas(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the `saas` CLI against this stack, as the README does."""
        env = {**os.environ, "SAAS_LOCAL_ROOT": str(self.root)}
        result = subprocess.run(
            [sys.executable, "-m", "saas_cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"saas {' '.join(args)} failed: {result.stderr}{result.stdout}")
        return result

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(f"{self.url}/_local/status", timeout=30).json()
        return data

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def start_stack(root: Path, *, port: int | None = None) -> RunningStack:
    port = port or free_port()
    postgres_port = free_port()
    log = root.parent / f"{root.name}.log"
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "STRIPE_API_KEY"}}
    # A secret of our own, as with `stripe listen`: proves the configured secret is the one in force.
    env["STRIPE_WEBHOOK_SECRET"] = E2E_WEBHOOK_SECRET
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "saas_cli.main",
            "dev",
            "--root",
            str(root),
            "--port",
            str(port),
            "--postgres-port",
            str(postgres_port),
            "--no-color",
            "--schedule-compression",
            "600",
            "--visibility",
            str(WEBHOOKS_VISIBILITY_SECONDS),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    stack = RunningStack(f"http://127.0.0.1:{port}", root, log, process, postgres_port)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"saas dev exited with {process.returncode}:\n{stack.log_tail()}")
        if (root / STATE_FILE).exists():
            try:
                if httpx.get(f"{stack.url}/_local/status", timeout=5).status_code == 200:
                    return stack
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    stop_stack(stack)
    raise RuntimeError(f"saas dev was not ready within {START_TIMEOUT_SECONDS:.0f} s:\n{stack.log_tail()}")


def stop_stack(stack: RunningStack, *, sig: int = signal.SIGINT) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(sig)
        try:
            stack.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    return stack.process.returncode


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("e2e") / "local")
    try:
        yield running
    finally:
        stop_stack(running)


def wait_for(predicate: Any, *, timeout: float, interval: float = 0.25, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


def problem_json(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    data: dict[str, Any] = json.loads(response.text)
    return data
