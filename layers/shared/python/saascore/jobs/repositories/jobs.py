"""Plain SQL over `jobs` and `job_outbox`; every function runs inside the caller's tenant transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection
from saascore.jobs.model import JobStatus

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: UUID
    tenant_id: UUID
    type: str
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    run_after: datetime | None
    locked_until: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime


JOB_COLUMNS = (
    "id, tenant_id, type, payload, status, attempts, result, error, run_after, locked_until, "
    "started_at, finished_at, created_at, updated_at"
)


def _record(row: dict[str, Any]) -> JobRecord:
    return JobRecord(**row)


def insert_job(
    conn: Connection, *, tenant_id: UUID, job_type: str, payload_json: str, dedup_key: str | None
) -> tuple[UUID, bool]:
    """Insert a queued job; returns (id, created). A repeated dedup key returns the existing job."""
    row = conn.execute(
        "INSERT INTO jobs (tenant_id, type, payload, dedup_key) VALUES (%s, %s, %s::jsonb, %s) "
        "ON CONFLICT (tenant_id, type, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id",
        (tenant_id, job_type, payload_json, dedup_key),
    ).fetchone()
    if row is not None:
        return row["id"], True
    existing = conn.execute(
        "SELECT id FROM jobs WHERE tenant_id = %s AND type = %s AND dedup_key = %s",
        (tenant_id, job_type, dedup_key),
    ).fetchone()
    if existing is None:
        raise LookupError("a deduplicated job vanished between insert and select")
    return existing["id"], False


def insert_outbox(conn: Connection, *, job_id: UUID, tenant_id: UUID, body_json: str) -> None:
    conn.execute(
        "INSERT INTO job_outbox (job_id, tenant_id, body) VALUES (%s, %s, %s::jsonb)",
        (job_id, tenant_id, body_json),
    )


def take_outbox(conn: Connection, *, job_ids: list[UUID]) -> list[dict[str, Any]]:
    """Delete the given outbox rows (locking them) and return their bodies; rolled back if the send fails."""
    rows = conn.execute("DELETE FROM job_outbox WHERE job_id = ANY(%s) RETURNING body", (job_ids,)).fetchall()
    return [row["body"] for row in rows]


def get_job(conn: Connection, *, job_id: UUID) -> JobRecord | None:
    row = conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return None if row is None else _record(row)


def claim_job(conn: Connection, *, job_id: UUID, lock_seconds: int) -> JobRecord | None:
    """queued (or running with an expired lock, i.e. a crashed worker) → running; None if not claimable."""
    row = conn.execute(
        f"UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = now(), "
        f"locked_until = now() + make_interval(secs => %s), run_after = NULL "
        f"WHERE id = %s AND (status = 'queued' OR (status = 'running' AND locked_until < now())) "
        f"RETURNING {JOB_COLUMNS}",
        (lock_seconds, job_id),
    ).fetchone()
    return None if row is None else _record(row)


def finish_job(
    conn: Connection,
    *,
    job_id: UUID,
    status: JobStatus,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    conn.execute(
        "UPDATE jobs SET status = %s, result = %s, error = %s, finished_at = now(), locked_until = NULL "
        "WHERE id = %s",
        (status, None if result is None else Jsonb(result), _clip(error), job_id),
    )


def requeue_job(conn: Connection, *, job_id: UUID, error: str, delay_seconds: int) -> None:
    """A retryable failure: back to queued with the error and the earliest time of the next attempt."""
    conn.execute(
        "UPDATE jobs SET status = 'queued', error = %s, locked_until = NULL, "
        "run_after = now() + make_interval(secs => %s) WHERE id = %s",
        (_clip(error), delay_seconds, job_id),
    )


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:MAX_ERROR_CHARS]
