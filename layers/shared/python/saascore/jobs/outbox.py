"""Enqueue = job row + outbox row in the caller's transaction; delivery to SQS after commit.

`enqueue_job` writes both rows with the caller's connection, so a rolled-back request leaves neither and
a committed one leaves both. It also remembers the job in a context-local list; after the caller's
transaction has committed, `deliver_pending()` sends those jobs: per tenant, one short transaction
deletes the outbox rows and sends their bodies, so a failed send rolls the delete back and a rolled-back
enqueue (no row) sends nothing. Rows nobody delivered (crash, forgotten call, SQS outage) are sent by
`sweep_outbox()`, run every minute by the scheduler. Delivery is therefore at least once, never zero
times; the worker's claim on the job row absorbs duplicates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from psycopg.pq import TransactionStatus

from saascore.db.cells import every_cell_database, route_database
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from saascore.exceptions import TenantMovingError
from saascore.jobs.exceptions import InvalidJobError, OutboxError, QueueSendError
from saascore.jobs.model import JOB_TYPE_PATTERN, JobMessage, encode_payload
from saascore.jobs.repositories import jobs as repo
from saascore.jobs.settings import get_jobs_queue_settings
from saascore.observability import get_logger

SQS_BATCH_SIZE = 10  # SendMessageBatch maximum
SWEEP_LIMIT = 500

logger = get_logger("jobs")

_pending: ContextVar[tuple[tuple[UUID, UUID], ...]] = ContextVar("saascore_jobs_pending", default=())


@lru_cache(maxsize=1)
def get_sqs_client() -> Any:
    import boto3

    return boto3.client("sqs")


def enqueue_job(
    conn: Connection,
    *,
    tenant_id: UUID,
    job_type: str,
    payload: Mapping[str, Any],
    dedup_key: str | None = None,
) -> UUID:
    """Queue a job inside the caller's tenant transaction; returns its id (the existing one on a dedup hit)."""
    if not re.fullmatch(JOB_TYPE_PATTERN, job_type):
        raise InvalidJobError(f"invalid job type {job_type!r}")
    try:
        payload_json = encode_payload(dict(payload))
    except (TypeError, ValueError) as exc:
        raise InvalidJobError(str(exc)) from exc
    job_id, created = repo.insert_job(
        conn, tenant_id=tenant_id, job_type=job_type, payload_json=payload_json, dedup_key=dedup_key
    )
    if created:
        message = JobMessage(
            job_id=job_id, type=job_type, tenant_id=tenant_id, payload=json.loads(payload_json), attempt=1
        )
        repo.insert_outbox(conn, job_id=job_id, tenant_id=tenant_id, body_json=message.body())
        _pending.set((*_pending.get(), (tenant_id, job_id)))
    return job_id


def pending_jobs() -> tuple[tuple[UUID, UUID], ...]:
    """(tenant_id, job_id) pairs enqueued in this context and not yet handed to `deliver_pending`."""
    return _pending.get()


def discard_pending() -> None:
    """Forget undelivered jobs of this context (their rows, if committed, are left to the sweeper)."""
    _pending.set(())


def deliver_pending(*, database: Database | None = None) -> int:
    """Send the jobs this context enqueued, after their transaction committed; returns messages sent.

    Never raises for SQS trouble: the rows stay in the outbox and the sweeper sends them later.
    """
    pending = _pending.get()
    if not pending:
        return 0
    by_tenant: dict[UUID, list[UUID]] = {}
    for tenant_id, job_id in pending:
        by_tenant.setdefault(tenant_id, []).append(job_id)
    # Each tenant's outbox rows are in its cell.
    targets = {tenant_id: database or route_database(tenant_id) for tenant_id in by_tenant}
    for db in targets.values():
        _require_idle(db)
    _pending.set(())
    sent = 0
    for tenant_id, job_ids in by_tenant.items():
        try:
            sent += deliver(tenant_id=tenant_id, job_ids=job_ids, database=targets[tenant_id])
        except QueueSendError as exc:
            logger.warning(
                "job delivery failed; the outbox sweeper will retry",
                extra={"tenant_id": str(tenant_id), "error": str(exc)},
            )
    return sent


def deliver(*, tenant_id: UUID, job_ids: Sequence[UUID], database: Database | None = None) -> int:
    """Delete these outbox rows and send their bodies in one transaction (rolled back on a failed send).

    Must run after the enqueuing transaction committed: inside it, this would be a savepoint of the same
    transaction and could send a message for a row that is later rolled back.
    """
    db = database or route_database(tenant_id)
    _require_idle(db)
    with tenant_transaction(tenant_id, database=db) as conn:
        bodies = repo.take_outbox(conn, job_ids=list(job_ids))
        send_messages(json.dumps(body, separators=(",", ":")) for body in bodies)
    return len(bodies)


def _require_idle(db: Database) -> None:
    if db.connection().info.transaction_status != TransactionStatus.IDLE:
        raise OutboxError("job delivery must run after the enqueuing transaction has committed")


def sweep_outbox(*, database: Database | None = None, min_age: timedelta | None = None) -> int:
    """Deliver outbox rows older than the grace period (their request path did not); returns sent count.

    Without ``database`` every cell's outbox is swept.
    """
    age = (
        min_age if min_age is not None else timedelta(seconds=get_jobs_queue_settings().outbox_grace_seconds)
    )
    sent = 0
    for db in [database] if database is not None else every_cell_database():
        with tenantless_transaction(database=db) as conn:
            rows = conn.execute(
                "SELECT job_id, tenant_id FROM app.pending_job_outbox(%s, %s)", (age, SWEEP_LIMIT)
            ).fetchall()
        by_tenant: dict[UUID, list[UUID]] = {}
        for row in rows:
            by_tenant.setdefault(row["tenant_id"], []).append(row["job_id"])
        for tenant_id, job_ids in by_tenant.items():
            try:
                sent += deliver(tenant_id=tenant_id, job_ids=job_ids, database=db)
            except TenantMovingError:
                # Frozen for a move: the rows travel with the tenant and are swept in its new cell; the
                # other tenants' rows are still swept.
                logger.info(
                    "outbox rows of a moving tenant left for later", extra={"tenant_id": str(tenant_id)}
                )
    if sent:
        logger.info("outbox sweep delivered jobs", extra={"delivered": sent})
    return sent


def send_system_job(job_type: str, payload: Mapping[str, Any]) -> UUID:
    """A job that belongs to no tenant (e.g. refreshing a global view): no row, straight to SQS."""
    message = JobMessage(job_id=uuid4(), type=job_type, tenant_id=None, payload=dict(payload), attempt=1)
    send_messages([message.body()])
    return message.job_id


def send_messages(bodies: Iterable[str]) -> None:
    """SendMessageBatch in chunks of ten; raises QueueSendError if any entry is refused."""
    messages = list(bodies)
    if not messages:
        return
    queue_url = get_jobs_queue_settings().jobs_queue_url
    if queue_url is None:
        raise QueueSendError("JOBS_QUEUE_URL is not set")
    for start in range(0, len(messages), SQS_BATCH_SIZE):
        _send_batch(queue_url, messages[start : start + SQS_BATCH_SIZE])


def _send_batch(queue_url: str, bodies: list[str]) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = get_sqs_client().send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)],
        )
    except (BotoCoreError, ClientError) as exc:
        raise QueueSendError(f"SQS SendMessageBatch failed: {exc}") from exc
    if response.get("Failed"):
        raise QueueSendError(f"SQS refused {len(response['Failed'])} job message(s)")
