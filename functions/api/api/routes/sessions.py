"""Sign-up, sessions (sign-in, refresh, sign-out) — public except sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.deps import (
    REFRESH_COOKIE,
    SESSION_COOKIE,
    AccessDep,
    ActorDep,
    ClientCredentialsDep,
    InfoDep,
    TenantTx,
    api_settings,
    get_db,
)
from api.exceptions import UnauthenticatedError
from api.schemas.api_keys import TOKEN_REQUEST_OPENAPI, AccessTokenResponse
from api.schemas.sessions import RefreshRequest, SessionCreate, SessionTokens, SignupRequest
from api.schemas.sso import DiscoveryAnswer, DiscoveryRequest
from api.services import api_keys, sessions, sso_domains
from api.services.identity import identity_from_idp_token
from api.settings import ApiSettings
from saascore.db.connection import Database

router = APIRouter(prefix="/api/v1", tags=["sessions"])

DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[ApiSettings, Depends(api_settings)]


async def _origin(info: InfoDep) -> sessions.Origin:
    return sessions.Origin(request_id=info.request_id, ip=info.ip, user_agent=info.user_agent)


OriginDep = Annotated[sessions.Origin, Depends(_origin)]


def _set_cookies(response: Response, tokens: SessionTokens, settings: ApiSettings) -> None:
    secure = settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        tokens.access_token,
        max_age=tokens.expires_in,
        samesite="lax",
        secure=secure,
        httponly=True,
        path="/",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        max_age=settings.refresh_token_ttl_seconds,
        samesite="strict",
        secure=secure,
        httponly=True,
        path="/",
    )


@router.post("/signup", status_code=201, response_model=SessionTokens)
async def sign_up(
    body: SignupRequest, response: Response, db: DbDep, settings: SettingsDep, origin: OriginDep
) -> SessionTokens:
    identity = identity_from_idp_token(body.id_token)
    tokens = sessions.sign_up(
        db, settings, identity, tenant_name=body.tenant_name, tenant_slug=body.tenant_slug, origin=origin
    )
    _set_cookies(response, tokens, settings)
    return tokens


@router.post("/sessions", status_code=201, response_model=SessionTokens)
async def create_session(
    body: SessionCreate, response: Response, db: DbDep, settings: SettingsDep, origin: OriginDep
) -> SessionTokens:
    identity = identity_from_idp_token(body.id_token)
    tokens = sessions.sign_in(db, settings, identity, tenant=body.tenant, origin=origin)
    _set_cookies(response, tokens, settings)
    return tokens


@router.post("/sessions/discover", response_model=DiscoveryAnswer)
async def discover_sign_in(body: DiscoveryRequest, db: DbDep, settings: SettingsDep) -> DiscoveryAnswer:
    """Which sign-in an address should use (home-realm discovery); the same answer shape for every address."""
    return sso_domains.discover(db, settings, body.email)


@router.post("/sessions/refresh", response_model=SessionTokens)
async def refresh_session(
    *,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    origin: OriginDep,
    body: RefreshRequest | None = None,
) -> SessionTokens:
    token = (body.refresh_token if body else None) or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise UnauthenticatedError("send refresh_token in the body or the __Host-refresh cookie")
    tokens = sessions.refresh(db, settings, token, origin=origin)
    _set_cookies(response, tokens, settings)
    return tokens


@router.delete("/sessions/current", status_code=204, response_class=Response)
async def sign_out(conn: TenantTx, access: AccessDep, actor: ActorDep, settings: SettingsDep) -> Response:
    sessions.sign_out(conn, actor, access.principal.session_id)
    response = Response(status_code=204)
    for name in (SESSION_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", secure=settings.cookie_secure, httponly=True)
    return response


@router.post("/sessions/token", response_model=AccessTokenResponse, openapi_extra=TOKEN_REQUEST_OPENAPI)
async def exchange_api_key(
    grant: ClientCredentialsDep, db: DbDep, settings: SettingsDep
) -> AccessTokenResponse:
    """Client credentials (RFC 6749 §4.4): an API key for a short-lived access token."""
    return api_keys.exchange(db, settings, grant.credentials, scope=grant.scope)
