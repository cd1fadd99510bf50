"""One webhook delivery attempt: claim, sign (Standard Webhooks), POST through the SSRF guard, record.

A message is acted on only when it is its delivery's current schedule (``due`` equals the row's
``next_attempt_at``) and no other worker holds the delivery's lock; anything else is a duplicate or an
out-of-date message and is dropped. A message that arrives before it is due (SQS delays at most 15
minutes) is sent again with the largest delay. After a failed attempt the next message is sent inside
the transaction that records the attempt: if the send fails the record rolls back, the lock expires and
SQS brings the current message back, so a retry is never lost.

Failures back off exponentially (``jobs.backoff``) until ``retry_until`` (3 days after the event by
default); an endpoint that has failed continuously for ``WEBHOOK_DISABLE_AFTER_DAYS`` is disabled, audited,
and its owners are e-mailed through the `send_email` job.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from jobs.backoff import backoff_seconds
from jobs.delivery_queue import MAX_DELAY_SECONDS, DeliveryMessage, send_deliveries
from jobs.repositories import webhooks as repo
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenant_transaction
from saascore.events import outbound, ssrf
from saascore.events.exceptions import OutboundRequestError, UnsafeUrlError
from saascore.events.payload import event_body, message_id, signed_headers
from saascore.events.repositories.events import get_event
from saascore.events.secrets import decrypt_secret
from saascore.events.settings import WebhookSettings
from saascore.jobs.outbox import deliver_pending, enqueue_job
from saascore.observability import get_logger

Outcome = Literal["succeeded", "retrying", "failed", "waiting", "dropped"]
Poster = Callable[..., outbound.OutboundResponse]

DISABLED_TEMPLATE = "webhook_endpoint_disabled"
LOCK_MARGIN_SECONDS = 30

logger = get_logger("webhook-delivery")


def deliver(
    message: DeliveryMessage,
    *,
    settings: WebhookSettings,
    database: Database,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    post: Poster = outbound.post,
    resolve: ssrf.Resolver = ssrf.system_resolver,
) -> Outcome:
    log = {"delivery_id": str(message.delivery_id), "tenant_id": str(message.tenant_id)}
    with tenant_transaction(message.tenant_id, database=database) as conn:
        current = repo.get_delivery(conn, delivery_id=message.delivery_id)
        if current is None or current["status"] != "pending" or current["next_attempt_at"] != message.due:
            return "dropped"
        if current["endpoint_status"] != "enabled":
            repo.fail_delivery(conn, delivery_id=message.delivery_id, error="the endpoint is disabled")
            return "failed"
    wait = math.ceil((message.due - now()).total_seconds())
    if wait > 0:
        send_deliveries([message], delay_seconds=min(wait, MAX_DELAY_SECONDS))
        return "waiting"
    lock_seconds = (
        math.ceil(settings.connect_timeout_seconds + settings.total_timeout_seconds) + LOCK_MARGIN_SECONDS
    )
    with tenant_transaction(message.tenant_id, database=database) as conn:
        claimed = repo.claim_delivery(
            conn, delivery_id=message.delivery_id, due=message.due, lock_seconds=lock_seconds
        )
        if claimed is None:
            return "dropped"
        event = get_event(conn, event_id=claimed["event_id"])
        ciphertexts = repo.live_secrets(conn, endpoint_id=claimed["endpoint_id"])
    assert event is not None  # the delivery's foreign key keeps its event
    secrets = [
        decrypt_secret(blob, tenant_id=message.tenant_id, endpoint_id=claimed["endpoint_id"])
        for blob in ciphertexts
    ]
    status_code, error, duration_ms = _attempt(
        claimed, event=event, secrets=secrets, settings=settings, at=now(), post=post, resolve=resolve
    )
    succeeded = status_code is not None and 200 <= status_code < 300
    with tenant_transaction(message.tenant_id, database=database) as conn:
        outcome = _record(
            conn,
            claimed,
            succeeded=succeeded,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            settings=settings,
            at=now(),
        )
    deliver_pending(database=database)
    logger.info(
        "webhook delivery attempt",
        extra={**log, "outcome": outcome, "status_code": status_code, "attempt": claimed["attempts"]},
    )
    return outcome


def _attempt(
    delivery: dict[str, Any],
    *,
    event: dict[str, Any],
    secrets: list[str],
    settings: WebhookSettings,
    at: datetime,
    post: Poster,
    resolve: ssrf.Resolver,
) -> tuple[int | None, str | None, int | None]:
    """(status code, error, duration in ms) of one POST; transport trouble is an error, not an exception."""
    if not secrets:
        return None, "the endpoint has no live signing secret", None
    body = event_body(event)
    headers = signed_headers(msg_id=message_id(event["id"]), body=body, secrets=secrets, now=at)
    try:
        target = ssrf.vet(delivery["url"], allow_loopback=settings.allow_loopback, resolve=resolve)
        response = post(
            target,
            body=body.encode(),
            headers=headers,
            connect_timeout=settings.connect_timeout_seconds,
            total_timeout=settings.total_timeout_seconds,
            max_response_bytes=settings.max_response_bytes,
        )
    except UnsafeUrlError as exc:
        return None, f"refused: {exc}", None
    except OutboundRequestError as exc:
        return None, str(exc), None
    if 300 <= response.status < 400:
        return response.status, "redirects are not followed", response.duration_ms
    error = None if 200 <= response.status < 300 else f"the endpoint answered {response.status}"
    return response.status, error, response.duration_ms


def _record(
    conn: Connection,
    delivery: dict[str, Any],
    *,
    succeeded: bool,
    status_code: int | None,
    error: str | None,
    duration_ms: int | None,
    settings: WebhookSettings,
    at: datetime,
) -> Outcome:
    delivery_id: UUID = delivery["id"]
    if succeeded:
        repo.record_attempt(
            conn,
            delivery_id=delivery_id,
            status="succeeded",
            next_attempt_at=None,
            status_code=status_code,
            error=None,
            duration_ms=duration_ms,
        )
        repo.endpoint_succeeded(conn, endpoint_id=delivery["endpoint_id"])
        return "succeeded"
    delay = backoff_seconds(
        delivery["attempts"], base=settings.backoff_base_seconds, cap=settings.backoff_cap_seconds
    )
    next_at = at + timedelta(seconds=delay)
    retrying = next_at <= delivery["retry_until"]
    repo.record_attempt(
        conn,
        delivery_id=delivery_id,
        status="pending" if retrying else "failed",
        next_attempt_at=next_at if retrying else None,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
    )
    if repo.endpoint_failed(
        conn, endpoint_id=delivery["endpoint_id"], disable_after_days=settings.disable_after_days
    ):
        repo.fail_delivery(
            conn,
            delivery_id=delivery_id,
            error=f"the endpoint was disabled after failing for {settings.disable_after_days} days",
        )
        _announce_disabled(conn, delivery, settings.disable_after_days)
        return "failed"
    if not retrying:
        return "failed"
    stored = repo.get_delivery(conn, delivery_id=delivery_id)
    assert stored is not None
    # Inside the transaction: a refused send rolls the record back and SQS returns the current message.
    send_deliveries(
        [
            DeliveryMessage(
                delivery_id=delivery_id, tenant_id=delivery["tenant_id"], due=stored["next_attempt_at"]
            )
        ],
        delay_seconds=delay,
    )
    return "retrying"


def _announce_disabled(conn: Connection, delivery: dict[str, Any], days: int) -> None:
    logger.warning(
        "webhook endpoint disabled after failing continuously",
        extra={"endpoint_id": str(delivery["endpoint_id"]), "days": days},
    )
    repo.audit_disabled(
        conn,
        tenant_id=delivery["tenant_id"],
        endpoint_id=delivery["endpoint_id"],
        url=delivery["url"],
        days=days,
    )
    enqueue_job(
        conn,
        tenant_id=delivery["tenant_id"],
        job_type="send_email",
        payload={
            "template": DISABLED_TEMPLATE,
            "to": "owners",
            "data": {"endpoint_url": delivery["url"], "failing_days": days},
        },
        dedup_key=f"webhook-disabled:{delivery['endpoint_id']}:{delivery['id']}",
    )
