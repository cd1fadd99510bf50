"""/api/v1/sso: the tenant's SSO connections (Cognito identity providers) and verified domains."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from api.deps import ActorDep, CompensationsDep, IdempotencyDep, RequirePermission, TenantTx, api_settings
from api.schemas.sso import (
    RoleMapping,
    SsoConnection,
    SsoConnectionCreate,
    SsoConnectionUpdate,
    SsoDomain,
    SsoDomainCreate,
    SsoDomainUpdate,
)
from api.services import sso, sso_domains, sso_provisioning
from api.services.access import Access
from api.services.dns_txt import TxtResolver, get_txt_resolver
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


async def txt_resolver() -> TxtResolver:
    """DNS for domain verification; tests override this dependency with a resolver of their own."""
    return get_txt_resolver()


ResolverDep = Annotated[TxtResolver, Depends(txt_resolver)]


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


@router.get("/connections/{connection_id}/role-mapping", response_model=RoleMapping)
async def get_role_mapping(connection_id: uuid.UUID, conn: TenantTx, _: CanReadSso) -> RoleMapping:
    return sso_provisioning.get_role_mapping(conn, connection_id)


@router.put("/connections/{connection_id}/role-mapping", response_model=RoleMapping)
async def set_role_mapping(
    *,
    connection_id: uuid.UUID,
    body: RoleMapping,
    conn: TenantTx,
    access: CanManageSso,
    actor: ActorDep,
    idem: IdempotencyDep,
) -> Response:
    return idem.respond(lambda: sso_provisioning.set_role_mapping(conn, access, actor, connection_id, body))


@router.get("/domains", response_model=list[SsoDomain])
async def list_domains(conn: TenantTx, _: CanReadSso) -> list[SsoDomain]:
    return sso_domains.list_domains(conn)


@router.get("/domains/{domain_id}", response_model=SsoDomain)
async def get_domain(domain_id: uuid.UUID, conn: TenantTx, _: CanReadSso) -> SsoDomain:
    return sso_domains.get_domain(conn, domain_id)


@router.post("/domains", status_code=201, response_model=SsoDomain)
async def create_domain(
    body: SsoDomainCreate, conn: TenantTx, _: CanManageSso, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: sso_domains.create_domain(conn, actor, body), status_code=201)


@router.post("/domains/{domain_id}/verify", response_model=SsoDomain)
async def verify_domain(
    *,
    domain_id: uuid.UUID,
    conn: TenantTx,
    _: CanManageSso,
    actor: ActorDep,
    idem: IdempotencyDep,
    resolver: ResolverDep,
) -> Response:
    return idem.respond(lambda: sso_domains.verify_domain(conn, actor, domain_id, resolver))


@router.patch("/domains/{domain_id}", response_model=SsoDomain)
async def update_domain(
    *,
    domain_id: uuid.UUID,
    body: SsoDomainUpdate,
    conn: TenantTx,
    _: CanManageSso,
    actor: ActorDep,
    idem: IdempotencyDep,
) -> Response:
    return idem.respond(lambda: sso_domains.update_domain(conn, actor, domain_id, body))


@router.delete("/domains/{domain_id}", status_code=204, response_class=Response)
async def delete_domain(
    domain_id: uuid.UUID, conn: TenantTx, _: CanManageSso, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: sso_domains.delete_domain(conn, actor, domain_id), status_code=204)
