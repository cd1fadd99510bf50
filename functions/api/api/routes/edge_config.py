"""`GET /.well-known/saas-edge-config.json` (public): the issuers the edge trusts, read by it at cold start."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import api_settings
from api.schemas.edge_config import EdgeConfigDocument
from api.services.edge_config import edge_config_document
from api.services.signing import get_signer
from api.settings import ApiSettings

router = APIRouter(tags=["edge"])
SettingsDep = Annotated[ApiSettings, Depends(api_settings)]


@router.get(
    "/.well-known/saas-edge-config.json", response_model=EdgeConfigDocument, response_model_exclude_none=True
)
async def edge_config(response: Response, settings: SettingsDep) -> EdgeConfigDocument:
    # The edge keeps its own copy for a TTL; a short shared cache only spares a burst of cold starts.
    response.headers["Cache-Control"] = "public, max-age=60"
    return edge_config_document(settings, session_key=get_signer().public_jwk)
