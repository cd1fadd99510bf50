"""Webhook endpoints: registration behind the SSRF guard, secrets shown once and rotated with an overlap,
the delivery log, and manual redelivery through the jobs outbox."""

from __future__ import annotations

import uuid
from typing import Any

from api.exceptions import ConflictError, NotFoundError, UnsafeUrlRefusedError
from api.repositories import webhook_endpoints as repo
from api.schemas.common import Page
from api.schemas.webhook_endpoints import (
    RotatedSecret,
    SecretRotation,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from api.services import audit
from api.services.access import Access
from api.services.audit import AuditActor
from api.services.pagination import encode_cursor, keyset_after
from saascore.db.connection import Connection
from saascore.events import DISPATCH_JOB, ssrf
from saascore.events.exceptions import UnsafeUrlError
from saascore.events.secrets import encrypt_secret, generate_secret
from saascore.events.settings import WebhookSettings
from saascore.jobs import enqueue_job

RESOURCE = "webhook_endpoint"


def check_url(url: str, settings: WebhookSettings, resolve: ssrf.Resolver = ssrf.system_resolver) -> None:
    """Refuse what deliveries would refuse: a 422 pointing at the URL, before anything is stored."""
    try:
        ssrf.vet(url, allow_loopback=settings.allow_loopback, resolve=resolve)
    except UnsafeUrlError as exc:
        raise UnsafeUrlRefusedError(str(exc), pointer="#/url") from exc


def _endpoint(conn: Connection, endpoint_id: uuid.UUID, *, for_update: bool = False) -> dict[str, Any]:
    row = repo.get(conn, endpoint_id=endpoint_id, for_update=for_update)
    if row is None:
        raise NotFoundError(f"webhook endpoint {endpoint_id} not found")
    return row


def _new_secret(conn: Connection, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> str:
    secret = generate_secret()
    repo.insert_secret(
        conn,
        tenant_id=tenant_id,
        endpoint_id=endpoint_id,
        secret_id=uuid.uuid4(),
        ciphertext=encrypt_secret(secret, tenant_id=tenant_id, endpoint_id=endpoint_id),
    )
    return secret


def create(
    conn: Connection,
    access: Access,
    actor: AuditActor,
    body: WebhookEndpointCreate,
    settings: WebhookSettings,
) -> WebhookEndpointWithSecret:
    check_url(body.url, settings)
    tenant_id = access.principal.tenant_id
    repo.serialize_creates(conn, tenant_id=tenant_id)
    if repo.count(conn) >= settings.max_endpoints:
        raise ConflictError(f"a tenant can have at most {settings.max_endpoints} webhook endpoints")
    row = repo.insert(
        conn,
        tenant_id=tenant_id,
        user_id=access.principal.user_id,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
    )
    secret = _new_secret(conn, tenant_id, row["id"])
    audit.record(
        conn,
        actor,
        action="webhook_endpoint.created",
        resource_type=RESOURCE,
        resource_id=row["id"],
        after=row,
    )
    return WebhookEndpointWithSecret.model_validate({**row, "secret": secret})


def get(conn: Connection, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    return WebhookEndpoint.model_validate(_endpoint(conn, endpoint_id))


def list_endpoints(conn: Connection, *, limit: int, cursor: str | None) -> Page[WebhookEndpoint]:
    scope = {"list": "webhook_endpoints"}
    rows = repo.list_page(conn, limit=limit, after=keyset_after(cursor, scope))
    items = [WebhookEndpoint.model_validate(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)], scope)
        if len(rows) > limit
        else None
    )
    return Page[WebhookEndpoint](items=items, next_cursor=next_cursor)


def update(
    conn: Connection,
    actor: AuditActor,
    endpoint_id: uuid.UUID,
    body: WebhookEndpointUpdate,
    settings: WebhookSettings,
) -> WebhookEndpoint:
    row = _endpoint(conn, endpoint_id, for_update=True)
    fields = body.model_dump(exclude_unset=True)
    enabled = fields.pop("enabled", None)
    if fields.get("url") is not None and fields["url"] != row["url"]:
        check_url(fields["url"], settings)
    changes = {name: value for name, value in fields.items() if value is not None and row[name] != value}
    if enabled is not None and (row["status"] == "enabled") != enabled:
        changes["status"] = "enabled" if enabled else "disabled"
    if not changes:
        return WebhookEndpoint.model_validate(row)
    updated = repo.update(conn, endpoint_id=endpoint_id, changes=changes)
    audit.record(
        conn,
        actor,
        action="webhook_endpoint.updated",
        resource_type=RESOURCE,
        resource_id=endpoint_id,
        before=row,
        after=updated,
    )
    return WebhookEndpoint.model_validate(updated)


def delete(conn: Connection, actor: AuditActor, endpoint_id: uuid.UUID) -> None:
    row = _endpoint(conn, endpoint_id, for_update=True)
    repo.delete(conn, endpoint_id=endpoint_id)
    audit.record(
        conn,
        actor,
        action="webhook_endpoint.deleted",
        resource_type=RESOURCE,
        resource_id=endpoint_id,
        before=row,
    )


def rotate_secret(
    conn: Connection,
    actor: AuditActor,
    endpoint_id: uuid.UUID,
    body: SecretRotation,
    settings: WebhookSettings,
) -> RotatedSecret:
    """A new current secret; the previous one keeps signing until the overlap ends (two live at most)."""
    _endpoint(conn, endpoint_id, for_update=True)
    overlap = settings.rotation_overlap_seconds if body.overlap_seconds is None else body.overlap_seconds
    expires_at = repo.retire_secrets(conn, endpoint_id=endpoint_id, overlap_seconds=overlap)
    secret = _new_secret(conn, actor.tenant_id, endpoint_id)
    audit.record(
        conn,
        actor,
        action="webhook_endpoint.secret_rotated",
        resource_type=RESOURCE,
        resource_id=endpoint_id,
        after={"previous_secret_expires_at": expires_at},
    )
    return RotatedSecret(secret=secret, previous_secret_expires_at=expires_at)


def list_deliveries(
    conn: Connection, endpoint_id: uuid.UUID, *, status: str | None, limit: int, cursor: str | None
) -> Page[WebhookDelivery]:
    _endpoint(conn, endpoint_id)
    scope = {"list": "webhook_deliveries", "endpoint": str(endpoint_id), "status": status}
    rows = repo.list_deliveries(
        conn, endpoint_id=endpoint_id, status=status, limit=limit, after=keyset_after(cursor, scope)
    )
    items = [WebhookDelivery.model_validate(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)], scope)
        if len(rows) > limit
        else None
    )
    return Page[WebhookDelivery](items=items, next_cursor=next_cursor)


def redeliver(
    conn: Connection, actor: AuditActor, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """One more attempt now, through the same path as the first (dispatch job → delivery queue)."""
    endpoint = _endpoint(conn, endpoint_id)
    delivery = repo.get_delivery(conn, endpoint_id=endpoint_id, delivery_id=delivery_id, for_update=True)
    if delivery is None:
        raise NotFoundError(f"delivery {delivery_id} not found")
    if endpoint["status"] != "enabled":
        raise ConflictError("the endpoint is disabled; enable it before redelivering")
    if delivery["status"] == "pending":
        raise ConflictError("the delivery is still pending; it will be attempted on its schedule")
    scheduled = repo.schedule_redelivery(conn, delivery_id=delivery_id)
    enqueue_job(
        conn,
        tenant_id=actor.tenant_id,
        job_type=DISPATCH_JOB,
        payload={"event_id": str(delivery["event_id"]), "delivery_id": str(delivery_id)},
    )
    audit.record(
        conn,
        actor,
        action="webhook_delivery.redelivered",
        resource_type="webhook_delivery",
        resource_id=delivery_id,
        after={"endpoint_id": str(endpoint_id), "event_id": str(delivery["event_id"])},
    )
    return WebhookDelivery.model_validate(scheduled)
