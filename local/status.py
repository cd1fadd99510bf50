"""`/_local/status`: components, queue depths (with DLQs), API requests and errors per tenant and recent jobs,
as JSON.

Child processes report themselves through small heartbeat files under `<root>/run/`; the page reads
them (a component is alive while its process runs and its heartbeat is fresh), asks moto for queue depths and reads recent jobs as the cluster administrator (the jobs table has
forced RLS, so only a role above it can list every tenant's jobs on a developer's machine).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg

from local.aws import queue_depths
from local.runtime import LocalFunction
from local.state import StackState

HEARTBEAT_STALE_SECONDS = 5.0
RECENT_JOBS = 20


def heartbeat_dir(root: str | Path) -> Path:
    return Path(root) / "run"


def write_heartbeat(root: str | Path, role: str, payload: dict[str, Any]) -> None:
    directory = heartbeat_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{role}.json.tmp"
    tmp.write_text(json.dumps({"pid": os.getpid(), "at": time.time(), **payload}))
    tmp.replace(directory / f"{role}.json")


def process_running(pid: int) -> bool:
    """Whether the process exists and has not died: a killed child stays a zombie until its parent (the
    supervisor) reaps it, and a stale heartbeat alone would take seconds to tell."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): the signal probe is all there is
    return stat.rsplit(")", 1)[-1].split()[0] not in {"Z", "X"}


def read_heartbeats(root: str | Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    now = time.time()
    for path in sorted(heartbeat_dir(root).glob("*.json")):
        try:
            beat = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        fresh = now - float(beat.get("at", 0)) < HEARTBEAT_STALE_SECONDS
        beat["alive"] = fresh and not beat.get("stopped") and process_running(int(beat.get("pid", 0)))
        out[path.stem] = beat
    return out


class TenantTraffic:
    """API requests and errors per tenant since the gateway started, from the requests' metrics documents
    (`saascore.metrics`); anonymous requests count under "anonymous"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {}

    def observe(
        self,
        service: str,
        dimensions: Mapping[str, str],
        values: Mapping[str, float],
        properties: Mapping[str, Any],
    ) -> None:
        if service != "api" or "Requests" not in values:
            return
        tenant = str(properties.get("tenant_id") or "anonymous")
        outcome = dimensions.get("outcome", "ok")
        with self._lock:
            counts = self._counts.setdefault(tenant, {"requests": 0, "client_errors": 0, "server_errors": 0})
            counts["requests"] += 1
            if outcome in ("client_error", "server_error"):
                counts[f"{outcome}s"] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {tenant: dict(counts) for tenant, counts in sorted(self._counts.items())}


def function_status(functions: list[LocalFunction]) -> dict[str, Any]:
    return {
        fn.name: {"handler": fn.handler_path, "available": fn.available, **asdict(fn.stats)}
        for fn in functions
    }


def _postgres(state: StackState) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        with psycopg.connect(state.admin_database_url, connect_timeout=2, autocommit=True) as conn:
            conn.execute("SELECT 1")
            jobs: list[dict[str, Any]] = []
            exists = conn.execute("SELECT to_regclass('public.jobs') IS NOT NULL").fetchone()
            if exists and exists[0]:
                cursor = conn.execute(
                    "SELECT id::text, tenant_id::text, type, status, attempts, error,"
                    " created_at::text, finished_at::text FROM jobs ORDER BY created_at DESC LIMIT %s",
                    (RECENT_JOBS,),
                )
                names = [column.name for column in cursor.description or []]
                jobs = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            return {"up": True}, jobs
    except psycopg.Error as exc:
        return {"up": False, "error": type(exc).__name__}, []


def collect_status(
    state: StackState, functions: list[LocalFunction], traffic: TenantTraffic | None = None
) -> dict[str, Any]:
    postgres, jobs = _postgres(state)
    queues: dict[str, Any] = {}
    try:
        for pair in (state.webhooks, state.jobs):
            queues[pair.name] = {**queue_depths(state.moto_url, pair), "dlq_name": pair.dlq_name}
        moto: dict[str, Any] = {"up": True, "url": state.moto_url}
    except Exception as exc:
        moto = {"up": False, "url": state.moto_url, "error": type(exc).__name__}
    return {
        "gateway": {"url": state.gateway_url, "pid": os.getpid()},
        "postgres": {**postgres, "cluster_port": state.cluster_port},
        "moto": moto,
        "processes": read_heartbeats(state.root),
        "functions": function_status(functions),
        "queues": queues,
        "tenants": traffic.snapshot() if traffic is not None else {},
        "recent_jobs": jobs,
    }
