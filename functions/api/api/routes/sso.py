"""/api/v1/sso: the tenant's SSO connections (Cognito identity providers)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from api.deps import ActorDep, CompensationsDep, IdempotencyDep, RequirePermission, TenantTx, api_settings
from api.schemas.sso import SsoConnection, SsoConnectionCreate, SsoConnectionUpdate
from api.services import sso
from api.services.access import Access
from api.services.federation import CognitoFederation, get_federation
from api.settings import ApiSettings

router = APIRouter(prefix="/api/v1/sso", tags=["sso"])

CanManageSso = Annotated[Access, Depends(RequirePermission("sso:manage"))]
CanReadSso = Annotated[Access, Depends(RequirePermission("sso:read"))]
SettingsDep = Annotated[ApiSettings, Depends(api_settings)]


async def federation() -> Callable[[], CognitoFederation]:
    """Cognito, created on first use (a request refused before it reaches Cognito never builds a client)."""
    return get_federation


FederationDep = Annotated[Callable[[], CognitoFederation], Depends(federation)]


@router.get("/connections", response_model=list[SsoConnection])
async def list_connections(conn: TenantTx, _: CanReadSso) -> list[SsoConnection]:
    return sso.list_connections(conn)


@router.get("/connections/{connection_id}", response_model=SsoConnection)
async def get_connection(connection_id: uuid.UUID, conn: TenantTx, _: CanReadSso) -> SsoConnection:
    return sso.get_connection(conn, connection_id)


@router.post("/connections", status_code=201, response_model=SsoConnection)
async def create_connection(
    *,
    body: Annotated[SsoConnectionCreate, Body()],
    conn: TenantTx,
    _: CanManageSso,
    actor: ActorDep,
    idem: IdempotencyDep,
    settings: SettingsDep,
    cognito: FederationDep,
    undo: CompensationsDep,
) -> Response:
    return idem.respond(
        lambda: sso.create_connection(conn, actor, body, settings=settings, federation=cognito, undo=undo),
        status_code=201,
    )


@router.patch("/connections/{connection_id}", response_model=SsoConnection)
async def update_connection(
    *,
    connection_id: uuid.UUID,
    body: SsoConnectionUpdate,
    conn: TenantTx,
    _: CanManageSso,
    actor: ActorDep,
    idem: IdempotencyDep,
    settings: SettingsDep,
    cognito: FederationDep,
    undo: CompensationsDep,
) -> Response:
    return idem.respond(
        lambda: sso.update_connection(
            conn, actor, connection_id, body, settings=settings, federation=cognito, undo=undo
        )
    )


@router.delete("/connections/{connection_id}", status_code=204, response_class=Response)
async def delete_connection(
    *,
    connection_id: uuid.UUID,
    conn: TenantTx,
    _: CanManageSso,
    actor: ActorDep,
    idem: IdempotencyDep,
    cognito: FederationDep,
    undo: CompensationsDep,
) -> Response:
    return idem.respond(
        lambda: sso.delete_connection(conn, actor, connection_id, federation=cognito, undo=undo),
        status_code=204,
    )
