"""The session signing key's public half as a JWKS (public; the edge verifies session tokens with it)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.services.signing import get_signer

router = APIRouter(tags=["sessions"])


class Jwk(BaseModel):
    kty: str
    n: str
    e: str
    alg: str
    use: str
    kid: str


class Jwks(BaseModel):
    keys: list[Jwk]


@router.get("/.well-known/jwks.json", response_model=Jwks)
async def jwks(response: Response) -> Jwks:
    response.headers["Cache-Control"] = "public, max-age=300"
    return Jwks(keys=[Jwk.model_validate(get_signer().public_jwk)])
