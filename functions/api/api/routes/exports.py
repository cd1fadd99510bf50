"""/api/v1/exports: an owner asks for all of the tenant's data (202 + the export to poll), then downloads it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from api.deps import ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.routes.jobs import Delivery
from api.schemas.exports import Export
from api.services import exports
from api.services.access import Access

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])

CanManageExports = Annotated[Access, Depends(RequirePermission("exports:manage"))]


def _location(export: BaseModel | None) -> dict[str, str]:
    assert isinstance(export, Export)
    return {"Location": f"/api/v1/exports/{export.id}"}


@router.post("", status_code=202, response_model=Export)
async def request_export(
    delivery: Delivery, conn: TenantTx, access: CanManageExports, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(
        lambda: exports.request_export(conn, access, actor, delivery), status_code=202, headers=_location
    )


@router.get("/{export_id}", response_model=Export)
async def read_export(export_id: uuid.UUID, conn: TenantTx, access: CanManageExports) -> Export:
    return exports.get_export(conn, access, export_id)
