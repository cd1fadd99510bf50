"""SCIM 2.0 (RFC 7644) at /scim/v2: discovery, Users and Groups, authenticated by the tenant's SCIM token.

Every answer, errors included, is ``application/scim+json``; errors are RFC 7644 §3.12 documents
(``api.problems`` renders every error under /scim/v2 that way).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.deps import ScimTx, request_body
from api.exceptions import ScimError
from api.problems import SCIM_CONTENT_TYPE
from api.services import scim
from api.services.scim_schema import (
    LIST_SCHEMA,
    RESOURCE_TYPES,
    SCHEMAS,
    SCIM_PATH_PREFIX,
    service_provider_config,
)
from api.settings import get_settings

# Not in the OpenAPI document: RFC 7644 and the discovery endpoints below are the contract.
router = APIRouter(prefix=SCIM_PATH_PREFIX, tags=["scim"], include_in_schema=False)

Body = Annotated[bytes, Depends(request_body)]


def _answer(document: Any, status: int = 200) -> Response:
    headers = {}
    meta = document.get("meta") if isinstance(document, dict) else None
    if isinstance(meta, dict) and meta.get("version"):
        headers["ETag"] = meta["version"]
        if status == 201:
            headers["Location"] = meta["location"]
    return Response(
        json.dumps(document, separators=(",", ":")), status, headers, media_type=SCIM_CONTENT_TYPE
    )


def _query(
    filter: Annotated[str | None, Query(max_length=1024)] = None,
    startIndex: int = 1,
    count: int = scim.MAX_RESULTS,
    attributes: Annotated[str | None, Query(max_length=1024)] = None,
    excludedAttributes: Annotated[str | None, Query(max_length=1024)] = None,
) -> scim.Query:
    return scim.Query(filter, startIndex, count, attributes, excludedAttributes)


QueryDep = Annotated[scim.Query, Depends(_query)]


def _list(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


@router.get("/ServiceProviderConfig")
async def service_provider(tx: ScimTx) -> Response:
    return _answer(
        service_provider_config(
            tx.context.base_url, max_payload_bytes=get_settings().max_body_bytes, max_results=scim.MAX_RESULTS
        )
    )


@router.get("/ResourceTypes")
async def resource_types(tx: ScimTx) -> Response:
    return _answer(_list([t.document(tx.context.base_url) for t in RESOURCE_TYPES]))


@router.get("/ResourceTypes/{resource_type}")
async def resource_type(resource_type: str, tx: ScimTx) -> Response:
    found = next((t for t in RESOURCE_TYPES if t.name == resource_type), None)
    if found is None:
        raise scim.not_found("ResourceType")
    return _answer(found.document(tx.context.base_url))


@router.get("/Schemas")
async def schemas(tx: ScimTx) -> Response:
    return _answer(_list([s.document(tx.context.base_url) for s in SCHEMAS]))


@router.get("/Schemas/{schema_id}")
async def schema(schema_id: str, tx: ScimTx) -> Response:
    found = next((s for s in SCHEMAS if s.id == schema_id), None)
    if found is None:
        raise scim.not_found("Schema")
    return _answer(found.document(tx.context.base_url))


@router.post("/.search")
async def search_everything(tx: ScimTx) -> Response:
    """RFC 7644 §3.4.3 lets a server decline a search across resource types with 501."""
    raise ScimError("search /Users/.search or /Groups/.search; one resource type at a time", status=501)


@router.get("/Users")
async def list_users(tx: ScimTx, query: QueryDep) -> Response:
    return _answer(scim.list_users(tx.context, tx.conn, query))


@router.post("/Users")
async def create_user(tx: ScimTx, body: Body) -> Response:
    return _answer(scim.create_user(tx.context, tx.conn, scim.parse_body(body)), 201)


@router.post("/Users/.search")
async def search_users(tx: ScimTx, body: Body) -> Response:
    return _answer(scim.list_users(tx.context, tx.conn, scim.search_query(scim.parse_body(body))))


@router.get("/Users/{user_id}")
async def get_user(user_id: str, tx: ScimTx, query: QueryDep) -> Response:
    return _answer(scim.get_user(tx.context, tx.conn, user_id, query))


@router.put("/Users/{user_id}")
async def replace_user(user_id: str, tx: ScimTx, body: Body) -> Response:
    return _answer(scim.replace_user(tx.context, tx.conn, user_id, scim.parse_body(body)))


@router.patch("/Users/{user_id}")
async def patch_user(user_id: str, tx: ScimTx, body: Body) -> Response:
    return _answer(scim.patch_user(tx.context, tx.conn, user_id, scim.parse_body(body)))


@router.delete("/Users/{user_id}", status_code=204, response_class=Response)
async def delete_user(user_id: str, tx: ScimTx) -> Response:
    scim.delete_user(tx.context, tx.conn, user_id)
    return Response(status_code=204)


@router.get("/Groups")
async def list_groups(tx: ScimTx, query: QueryDep) -> Response:
    return _answer(scim.list_groups(tx.context, tx.conn, query))


@router.post("/Groups")
async def create_group(tx: ScimTx, body: Body) -> Response:
    return _answer(scim.create_group(tx.context, tx.conn, scim.parse_body(body)), 201)


@router.post("/Groups/.search")
async def search_groups(tx: ScimTx, body: Body) -> Response:
    return _answer(scim.list_groups(tx.context, tx.conn, scim.search_query(scim.parse_body(body))))


@router.get("/Groups/{group_id}")
async def get_group(group_id: str, tx: ScimTx, query: QueryDep) -> Response:
    return _answer(scim.get_group(tx.context, tx.conn, group_id, query))


@router.put("/Groups/{group_id}")
async def replace_group(group_id: str, tx: ScimTx, body: Body) -> Response:
    return _answer(scim.replace_group(tx.context, tx.conn, group_id, scim.parse_body(body)))


@router.patch("/Groups/{group_id}")
async def patch_group(group_id: str, tx: ScimTx, body: Body) -> Response:
    return _answer(scim.patch_group(tx.context, tx.conn, group_id, scim.parse_body(body)))


@router.delete("/Groups/{group_id}", status_code=204, response_class=Response)
async def delete_group(group_id: str, tx: ScimTx) -> Response:
    scim.delete_group(tx.context, tx.conn, group_id)
    return Response(status_code=204)
