"""`saas dev` itself: status page, a clear error on a taken port, Ctrl-C that leaves nothing behind."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from local.postgres import port_is_free
from tests.e2e.conftest import RunningStack, pids_alive, start_stack, stop_stack, wait_for

pytestmark = pytest.mark.e2e


def test_status_page_lists_components_queues_and_recent_jobs(stack: RunningStack) -> None:
    status = stack.status()
    assert status["postgres"]["up"] is True
    assert status["moto"]["up"] is True
    for role in ("gateway", "webhooks-worker", "jobs-worker", "webhook-delivery-worker", "scheduler"):
        assert status["processes"][role]["alive"] is True, role
    queues = status["queues"]
    assert set(queues) == {"saas-webhooks.fifo", "saas-jobs"}
    for depths in queues.values():
        assert set(depths) >= {"visible", "in_flight", "dlq", "dlq_name"}
    assert isinstance(status["recent_jobs"], list)
    assert set(status["functions"]) == {
        "edge-viewer-request",
        "edge-origin-request",
        "edge-viewer-response",
        "api",
        "webhooks-receiver",
    }
    # Schedules fire on the compressed timetable (the e2e stack runs 600x faster than AWS).
    fired = wait_for(
        lambda: stack.status()["processes"]["scheduler"].get("fired", {}).get("sweep_job_outbox", 0) > 0,
        timeout=60,
        what="the outbox sweep schedule",
    )
    assert fired
    ready = re.search(r"ready in ([0-9.]+) s", stack.log.read_text())
    assert ready is not None
    print(f"\nlocal stack ready in {ready.group(1)} s (e2e session start, fresh cluster)")


def test_a_taken_port_is_a_clear_error_before_anything_starts(stack: RunningStack, tmp_path: Path) -> None:
    port = stack.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "saas_cli.main", "dev", "--root", str(tmp_path / "x"), "--port", port],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert f"port {port} (gateway) is already in use" in result.stderr
    assert not (tmp_path / "x" / "postgres").exists()  # failed before starting PostgreSQL


@pytest.mark.slow
def test_ctrl_c_stops_children_and_the_cluster(tmp_path: Path) -> None:
    second = start_stack(tmp_path / "local")
    status = second.status()
    pids = [beat["pid"] for beat in status["processes"].values()]
    postmaster = int((second.root / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
    assert pids_alive([*pids, postmaster]) == [*pids, postmaster]
    assert stop_stack(second, sig=signal.SIGINT) == 0
    wait_for(lambda: not pids_alive([*pids, postmaster]), timeout=15, what="every process to exit")
    assert port_is_free(int(second.url.rsplit(":", 1)[1]))
    assert port_is_free(second.postgres_port)
    assert not (second.root / "postgres" / "data" / "postmaster.pid").exists()
    assert "stopped" in second.log_tail()
