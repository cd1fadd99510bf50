"""One job message → claim the row, run the handler, record the outcome (no SQS here).

Outcomes: ``succeeded``/``failed`` (message done), ``skipped`` (already finished, or the row is gone: a
duplicate delivery), or an exception the worker turns into SQS actions: ``RetryLater`` (backoff, or
another worker holds a live lock) and ``JobDead`` (last attempt failed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import ValidationError

from jobs.backoff import backoff_seconds
from jobs.context import JobContext
from jobs.exceptions import JobDead, PermanentJobError, RetryLater
from jobs.registry import Handler, spec_for
from jobs.settings import JobsSettings
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction
from saascore.events import record_event
from saascore.exceptions import TenantMovingError, TenantNotInCellError
from saascore.jobs.model import FINISHED_STATUSES, JobMessage
from saascore.jobs.outbox import deliver_pending
from saascore.jobs.repositories import jobs as repo
from saascore.observability import get_logger

Outcome = Literal["succeeded", "failed", "skipped"]
Resolver = Callable[[str], Handler | None]

logger = get_logger("jobs")


def default_resolver(job_type: str) -> Handler | None:
    spec = spec_for(job_type)
    return None if spec is None else spec.handler()


def run_message(
    message: JobMessage,
    *,
    receive_count: int,
    settings: JobsSettings,
    database: Database,
    resolve: Resolver | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Outcome:
    resolve = resolve or default_resolver
    log = {"job_id": str(message.job_id), "job_type": message.type, "tenant_id": str(message.tenant_id)}
    if message.tenant_id is None:
        return _run_system(
            message, receive_count=receive_count, settings=settings, database=database, resolve=resolve
        )
    try:
        return _run_tenant_job(
            message,
            receive_count=receive_count,
            settings=settings,
            database=database,
            resolve=resolve,
            now=now,
        )
    except TenantNotInCellError:
        raise  # routed to a cell the tenant is not in: the worker routes again
    except TenantMovingError as exc:
        # The tenant is read-only while it moves cells: nothing was written, so the message comes back
        # after the freeze (and then routes to the tenant's new cell).
        logger.info("tenant is moving; job retried after the freeze", extra=log)
        raise RetryLater(str(exc), delay_seconds=exc.retry_after_seconds) from exc


def _run_tenant_job(
    message: JobMessage,
    *,
    receive_count: int,
    settings: JobsSettings,
    database: Database,
    resolve: Resolver,
    now: Callable[[], datetime],
) -> Outcome:
    assert message.tenant_id is not None
    log = {"job_id": str(message.job_id), "job_type": message.type, "tenant_id": str(message.tenant_id)}
    with tenant_transaction(message.tenant_id, database=database) as conn:
        job = repo.claim_job(conn, job_id=message.job_id, lock_seconds=settings.job_lock_seconds)
        current = repo.get_job(conn, job_id=message.job_id) if job is None else job
    if job is None:
        if current is None or current.status in FINISHED_STATUSES:
            logger.info("job already finished or gone; message dropped", extra=log)
            return "skipped"
        locked_until = current.locked_until or now()
        delay = max(1, math.ceil((locked_until - now()).total_seconds()) + 1)
        raise RetryLater("another worker holds the job", delay_seconds=delay)

    context = JobContext(
        job_id=job.id,
        job_type=job.type,
        tenant_id=job.tenant_id,
        payload=job.payload,
        attempt=job.attempts,
        settings=settings,
        database=database,
    )
    try:
        result = _execute(context, resolve)
    except PermanentJobError as exc:
        logger.warning("job failed permanently", extra={**log, "error": str(exc)})
        _finish(database, message, tenant_id=job.tenant_id, status="failed", error=str(exc))
        return "failed"
    except TenantMovingError:
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if receive_count >= settings.max_attempts:
            logger.exception("job failed on its last attempt; marked dead", extra=log)
            _finish(database, message, tenant_id=job.tenant_id, status="dead", error=error)
            raise JobDead(error) from exc
        delay = backoff_seconds(
            receive_count, base=settings.backoff_base_seconds, cap=settings.backoff_cap_seconds
        )
        logger.warning("job failed; retrying", extra={**log, "error": error, "retry_in_seconds": delay})
        with tenant_transaction(job.tenant_id, database=database) as conn:
            repo.requeue_job(conn, job_id=message.job_id, error=error, delay_seconds=delay)
        raise RetryLater(error, delay_seconds=delay) from exc
    _finish(database, message, tenant_id=job.tenant_id, status="succeeded", result=result)
    return "succeeded"


def _execute(context: JobContext, resolve: Resolver) -> dict[str, Any] | None:
    handler = resolve(context.job_type)
    if handler is None:
        raise PermanentJobError(f"unknown job type {context.job_type!r}")
    try:
        return handler(context)
    except ValidationError as exc:
        raise PermanentJobError(f"invalid payload: {exc.error_count()} error(s)") from exc


def _finish(
    database: Database,
    message: JobMessage,
    *,
    tenant_id: UUID,
    status: Literal["succeeded", "failed", "dead"],
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    spec = spec_for(message.type)
    with tenant_transaction(tenant_id, database=database) as conn:
        repo.finish_job(conn, job_id=message.job_id, status=status, result=result, error=error)
        if spec is not None and spec.announce:
            record_event(
                conn,
                tenant_id=tenant_id,
                type="job.finished",
                data={"job": {"id": str(message.job_id), "type": message.type, "status": status}},
            )
    deliver_pending(database=database)


def _run_system(
    message: JobMessage, *, receive_count: int, settings: JobsSettings, database: Database, resolve: Resolver
) -> Outcome:
    """A job with no tenant has no row: retries and the DLQ come from SQS alone, outcomes go to the log."""
    context = JobContext(
        job_id=message.job_id,
        job_type=message.type,
        tenant_id=None,
        payload=message.payload,
        attempt=receive_count,
        settings=settings,
        database=database,
    )
    try:
        _execute(context, resolve)
    except PermanentJobError:
        logger.exception("system job failed permanently", extra={"job_type": message.type})
        return "failed"
    except Exception as exc:
        if receive_count >= settings.max_attempts:
            raise JobDead(f"{type(exc).__name__}: {exc}") from exc
        delay = backoff_seconds(
            receive_count, base=settings.backoff_base_seconds, cap=settings.backoff_cap_seconds
        )
        raise RetryLater(f"{type(exc).__name__}: {exc}", delay_seconds=delay) from exc
    return "succeeded"
