"""/api/v1/webhook-endpoints: the tenant's outbound webhook endpoints, their secrets and delivery logs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.schemas.webhook_endpoints import (
    DeliveryStatus,
    RotatedSecret,
    SecretRotation,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from api.services import webhook_endpoints as endpoints
from api.services.access import Access
from saascore.events.settings import WebhookSettings, get_webhook_settings

router = APIRouter(prefix="/api/v1/webhook-endpoints", tags=["webhooks"])

CanRead = Annotated[Access, Depends(RequirePermission("webhooks:read"))]
CanManage = Annotated[Access, Depends(RequirePermission("webhooks:manage"))]


async def webhook_settings() -> WebhookSettings:
    return get_webhook_settings()


Settings = Annotated[WebhookSettings, Depends(webhook_settings)]


def _location(endpoint: object) -> dict[str, str]:
    assert isinstance(endpoint, WebhookEndpoint)
    return {"Location": f"/api/v1/webhook-endpoints/{endpoint.id}"}


@router.post("", status_code=201, response_model=WebhookEndpointWithSecret)
async def create_webhook_endpoint(
    *,
    body: WebhookEndpointCreate,
    conn: TenantTx,
    access: CanManage,
    actor: ActorDep,
    idem: IdempotencyDep,
    settings: Settings,
) -> Response:
    return idem.respond(
        lambda: endpoints.create(conn, access, actor, body, settings), status_code=201, headers=_location
    )


@router.get("", response_model=Page[WebhookEndpoint])
async def list_webhook_endpoints(
    conn: TenantTx, _: CanRead, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: str | None = None
) -> Page[WebhookEndpoint]:
    return endpoints.list_endpoints(conn, limit=limit, cursor=cursor)


@router.get("/{endpoint_id}", response_model=WebhookEndpoint)
async def get_webhook_endpoint(endpoint_id: uuid.UUID, conn: TenantTx, _: CanRead) -> WebhookEndpoint:
    return endpoints.get(conn, endpoint_id)


@router.patch("/{endpoint_id}", response_model=WebhookEndpoint)
async def update_webhook_endpoint(
    *,
    endpoint_id: uuid.UUID,
    body: WebhookEndpointUpdate,
    conn: TenantTx,
    _: CanManage,
    actor: ActorDep,
    idem: IdempotencyDep,
    settings: Settings,
) -> Response:
    return idem.respond(lambda: endpoints.update(conn, actor, endpoint_id, body, settings))


@router.delete("/{endpoint_id}", status_code=204, response_class=Response)
async def delete_webhook_endpoint(
    endpoint_id: uuid.UUID, conn: TenantTx, _: CanManage, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: endpoints.delete(conn, actor, endpoint_id), status_code=204)


@router.post("/{endpoint_id}/secret/rotate", response_model=RotatedSecret)
async def rotate_webhook_secret(
    *,
    endpoint_id: uuid.UUID,
    body: SecretRotation,
    conn: TenantTx,
    _: CanManage,
    actor: ActorDep,
    idem: IdempotencyDep,
    settings: Settings,
) -> Response:
    return idem.respond(lambda: endpoints.rotate_secret(conn, actor, endpoint_id, body, settings))


@router.get("/{endpoint_id}/deliveries", response_model=Page[WebhookDelivery])
async def list_webhook_deliveries(
    *,
    endpoint_id: uuid.UUID,
    conn: TenantTx,
    _: CanRead,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    status: DeliveryStatus | None = None,
) -> Page[WebhookDelivery]:
    return endpoints.list_deliveries(conn, endpoint_id, status=status, limit=limit, cursor=cursor)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=WebhookDelivery
)
async def redeliver_webhook(
    endpoint_id: uuid.UUID,
    delivery_id: uuid.UUID,
    conn: TenantTx,
    _: CanManage,
    actor: ActorDep,
    idem: IdempotencyDep,
) -> Response:
    return idem.respond(lambda: endpoints.redeliver(conn, actor, endpoint_id, delivery_id), status_code=202)
