"""The status page's liveness: a component is alive while its process runs and its heartbeat is fresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from local.status import HEARTBEAT_STALE_SECONDS, process_running, read_heartbeats, write_heartbeat


def test_a_killed_worker_is_shown_dead_at_once_while_its_heartbeat_is_still_fresh(tmp_path: Path) -> None:
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_heartbeat(tmp_path, "jobs-worker", {"pid": worker.pid})
        assert read_heartbeats(tmp_path)["jobs-worker"]["alive"] is True
        worker.kill()
        deadline = time.monotonic() + 0.5  # the kernel delivers SIGKILL at once; no heartbeat period passes
        while process_running(worker.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        beat = read_heartbeats(tmp_path)["jobs-worker"]
        assert time.time() - beat["at"] < HEARTBEAT_STALE_SECONDS  # fresh, and yet
        assert beat["alive"] is False  # not reaped yet: a zombie counts as dead
    finally:
        worker.kill()
        worker.wait()
    assert read_heartbeats(tmp_path)["jobs-worker"]["alive"] is False


def test_a_stopped_or_silent_component_is_not_alive(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, "scheduler", {"stopped": True})
    write_heartbeat(tmp_path, "gateway", {})
    stale = tmp_path / "run" / "webhooks-worker.json"
    stale.write_text(json.dumps({"pid": os.getpid(), "at": time.time() - HEARTBEAT_STALE_SECONDS - 1}))
    beats = read_heartbeats(tmp_path)
    assert beats["scheduler"]["alive"] is False
    assert beats["gateway"]["alive"] is True  # this process, beating now
    assert beats["webhooks-worker"]["alive"] is False


def test_the_status_page_counts_api_requests_and_errors_per_tenant(monkeypatch) -> None:
    import uuid

    from local.status import TenantTraffic
    from saascore import metrics

    traffic = TenantTraffic()
    monkeypatch.setattr(metrics, "OBSERVERS", [traffic.observe])
    acme, globex = uuid.uuid4(), uuid.uuid4()
    for tenant, status in ((acme, 200), (acme, 404), (acme, 500), (globex, 201), (None, 200)):
        metrics.record_request(
            route="/api/v1/projects",
            method="GET",
            per_route=False,
            status=status,
            latency_ms=1.0,
            tenant_id=tenant,
            plan="free" if tenant else None,
            request_id=None,
        )
    metrics.record_job(outcome="succeeded", tenant_id=acme, job_type="report", job_id=None)  # not a request
    assert traffic.snapshot() == {
        str(acme): {"requests": 3, "client_errors": 1, "server_errors": 1},
        str(globex): {"requests": 1, "client_errors": 0, "server_errors": 0},
        "anonymous": {"requests": 1, "client_errors": 0, "server_errors": 0},
    }
