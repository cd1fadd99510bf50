"""Request context as FastAPI dependencies: principal, rate limit, tenant transaction, permissions.

Order for a tenant route: the token is verified (no I/O), the rate limit counted (DynamoDB), then the
tenant's database work starts with one round trip that sets the tenant and loads the caller's access
(and, for a route that takes ``IdempotencyDep``, claims the Idempotency-Key). A writing request (any
method but GET/HEAD/OPTIONS) is one pipelined transaction on the primary: the permission check, the
claim and the route's statements all run in it, and it commits before the response is sent
(``scope="function"``), its COMMIT travelling with the last statements. A safe-method request runs its
statements as read-only flights, one round trip each (``saascore.db.tenancy.tenant_reads``).

The dependencies are ``async def`` although their I/O blocks: FastAPI runs every plain ``def``
dependency on a worker thread, and a Lambda container serves one request at a time, so each of those
thread hand-offs (a dozen per request) was pure latency. The event loop has nothing else to run.
"""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.exceptions import RateLimitedError, UnauthenticatedError
from api.repositories.access import queue_access
from api.services import idempotency
from api.services.access import Access, access_from_row, authorize
from api.services.audit import AuditActor
from api.services.identity import Principal, principal_from_token
from api.services.ratelimit import get_rate_limiter
from api.settings import ApiSettings, get_settings
from saascontracts import identity as edge_contract
from saascore.db.connection import Connection, Database, Deferred, get_database
from saascore.db.replica import replica_for, replica_reads
from saascore.db.tenancy import tenant_pipeline, tenant_reads
from saascore.observability import get_logger

MAX_USER_AGENT_CHARS = 512

# The cookie names the edge reads too (the routes set them from here).
SESSION_COOKIE = edge_contract.SESSION_COOKIE
REFRESH_COOKIE = edge_contract.REFRESH_COOKIE

logger = get_logger("api")
bearer_scheme = HTTPBearer(auto_error=False, description="Session token (or the __Host-session cookie)")

# Edge header → Principal attribute it must equal (the edge forwards both; the origin re-verifies the token).
_PRINCIPAL_ATTRIBUTE = {
    "sub": "user_id",
    "tid": "tenant_id",
    "role": "role",
    "plan": "plan",
    "sid": "session_id",
}
EDGE_CLAIM_HEADERS = {
    header: _PRINCIPAL_ATTRIBUTE[claim] for claim, header, _ in edge_contract.IDENTITY_CLAIMS
}


@dataclass(frozen=True, slots=True)
class RequestInfo:
    request_id: str
    ip: str | None
    user_agent: str | None


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


async def get_request_info(request: Request) -> RequestInfo:
    headers = request.headers
    request_id = (
        headers.get("x-request-id") or getattr(request.state, "request_id", None) or str(uuid.uuid4())
    )
    # Behind CloudFront the socket peer is CloudFront; the viewer's address arrives as "ip:port".
    viewer = headers.get("cloudfront-viewer-address")
    ip = viewer.rsplit(":", 1)[0].strip("[]") if viewer else (request.client.host if request.client else None)
    agent = headers.get("user-agent")
    return RequestInfo(
        request_id=request_id[:128],
        ip=_valid_ip(ip),
        user_agent=agent[:MAX_USER_AGENT_CHARS] if agent else None,
    )


def _presented_token(request: Request, bearer: HTTPAuthorizationCredentials | None) -> str | None:
    forwarded = request.headers.get(edge_contract.AUTH_TOKEN_HEADER)
    if forwarded:
        return forwarded
    if bearer is not None:
        return bearer.credentials
    return request.cookies.get(SESSION_COOKIE)


async def get_principal(
    request: Request, bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Principal:
    """The verified session, whether the request came through the edge or straight to the origin."""
    token = _presented_token(request, bearer)
    if not token:
        raise UnauthenticatedError("a session token is required")
    principal = principal_from_token(token)
    for header, attribute in EDGE_CLAIM_HEADERS.items():
        claimed = request.headers.get(header)
        if claimed is not None and not hmac.compare_digest(claimed, str(getattr(principal, attribute))):
            raise UnauthenticatedError("identity headers do not match the verified token")
    logger.append_keys(tenant_id=str(principal.tenant_id), user_id=str(principal.user_id))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def rate_limited_principal(request: Request, principal: PrincipalDep) -> Principal:
    limiter = get_rate_limiter()
    if limiter is None:
        return principal
    decision = limiter.check(tenant_id=principal.tenant_id, user_id=principal.user_id, plan=principal.plan)
    if decision is None:
        return principal
    request.state.rate_limit_headers = decision.headers()
    if not decision.allowed:
        error = RateLimitedError(f"the {decision.exceeded} request limit is reached", limit=decision.exceeded)
        error.headers = decision.headers()
        raise error
    return principal


async def api_settings() -> ApiSettings:
    return get_settings()


async def get_db() -> Database:
    """The container's database; tests override this dependency (e.g. one connection per thread)."""
    return get_database()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENCY_HEADER = "idempotency-key"


@dataclass(frozen=True, slots=True)
class TenantWork:
    """The request's tenant connection and what its first round trip fetched."""

    conn: Connection
    access_row: Deferred[dict[str, Any] | None]
    claimed: Deferred[bool] | None


def _takes_idempotency(dependant: Dependant) -> bool:
    return any(sub.call is get_idempotency or _takes_idempotency(sub) for sub in dependant.dependencies)


_IDEMPOTENT_ROUTES: dict[int, bool] = {}


def _route_takes_idempotency(request: Request) -> bool:
    """Whether the matched route declares ``IdempotencyDep`` (only then is a key claimed up front)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return False
    known = _IDEMPOTENT_ROUTES.get(id(route))
    if known is None:
        known = _IDEMPOTENT_ROUTES[id(route)] = _takes_idempotency(route.dependant)
    return known


async def request_body(request: Request) -> bytes:
    """The raw body (cached by Starlette, so model parsing still works) for the idempotency fingerprint."""
    return await request.body()


async def tenant_work(
    request: Request,
    principal: Annotated[Principal, Depends(rate_limited_principal)],
    db: Annotated[Database, Depends(get_db)],
) -> AsyncIterator[TenantWork]:
    """The request's database work for the caller's tenant (RLS): a pipelined transaction for a write,
    read-only flights for a safe method; either way the first round trip loads access (and claims)."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    claim_body: bytes | None = None
    writes = request.method not in SAFE_METHODS
    if writes and key is not None and idempotency.valid_key(key) and _route_takes_idempotency(request):
        claim_body = await request.body()

    def begin(conn: Connection) -> tuple[Deferred[dict[str, Any] | None], Deferred[bool] | None]:
        access = queue_access(
            conn, tenant_id=principal.tenant_id, user_id=principal.user_id, session_id=principal.session_id
        )
        claimed = None
        if key is not None and claim_body is not None:
            claimed = idempotency.queue_claim(
                conn,
                tenant_id=principal.tenant_id,
                user_id=principal.user_id,
                key=key,
                method=request.method,
                path=request.url.path,
                body=claim_body,
            )
        return access, claimed

    work = tenant_pipeline if writes else tenant_reads
    with work(principal.tenant_id, begin, database=db) as (conn, (access, claimed)):
        yield TenantWork(conn, access, claimed)


TenantWorkDep = Annotated[TenantWork, Depends(tenant_work, scope="function")]


async def tenant_tx(work: TenantWorkDep) -> Connection:
    """The request's tenant connection: the one transaction of a write, read flights for a safe method."""
    return work.conn


TenantTx = Annotated[Connection, Depends(tenant_tx, scope="function")]


async def replica_tx(
    request: Request, principal: PrincipalDep, primary: TenantTx, db: Annotated[Database, Depends(get_db)]
) -> AsyncIterator[Connection]:
    """For reads a replica may serve (audit-log listing): on a safe-method request, read-only flights on
    the read endpoint when it is within ``DB_MAX_REPLICA_LAG_SECONDS`` (else the primary); on any other
    request the request's own transaction, so a request that wrote reads its writes and a writing
    route never touches the replica. The caller's access is still checked on the primary."""
    if request.method not in SAFE_METHODS or replica_for(db.settings) is None:
        yield primary
        return
    with replica_reads(principal.tenant_id, database=db) as (conn, source):
        logger.append_keys(read_endpoint=source.endpoint)
        yield conn


ReplicaTx = Annotated[Connection, Depends(replica_tx, scope="function")]


async def get_access(principal: PrincipalDep, work: TenantWorkDep) -> Access:
    return access_from_row(principal, work.access_row.result(), datetime.now(UTC))


AccessDep = Annotated[Access, Depends(get_access)]


class RequirePermission:
    """``Depends(RequirePermission("projects:read"))``: the route's declared permission (tests read it)."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    async def __call__(self, request: Request, access: AccessDep) -> Access:
        authorize(access, self.permission, request.method)
        return access

    def __repr__(self) -> str:
        return f"RequirePermission({self.permission!r})"


def require_permission(permission: str) -> RequirePermission:
    return RequirePermission(permission)


@dataclass(frozen=True, slots=True)
class IdempotentWrite:
    """What a writing route calls: the idempotency service's answer as the HTTP response."""

    idempotency: idempotency.Idempotency

    def respond(
        self,
        produce: Callable[[], BaseModel | None],
        *,
        status_code: int = 200,
        headers: Callable[[BaseModel | None], dict[str, str]] | None = None,
    ) -> Response:
        answer = self.idempotency.respond(produce, status_code=status_code, headers=headers)
        return Response(content=answer.body, status_code=answer.status, headers=answer.headers)


async def get_idempotency(
    request: Request, work: TenantWorkDep, access: AccessDep, body: Annotated[bytes, Depends(request_body)]
) -> IdempotentWrite:
    return IdempotentWrite(
        idempotency.begin(
            work.conn,
            access,
            key=request.headers.get(IDEMPOTENCY_HEADER),
            method=request.method,
            path=request.url.path,
            body=body,
            claimed=work.claimed,
        )
    )


IdempotencyDep = Annotated[IdempotentWrite, Depends(get_idempotency)]
InfoDep = Annotated[RequestInfo, Depends(get_request_info)]


async def get_actor(access: AccessDep, info: InfoDep) -> AuditActor:
    principal = access.principal
    return AuditActor(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        request_id=info.request_id,
        ip=info.ip,
        user_agent=info.user_agent,
    )


ActorDep = Annotated[AuditActor, Depends(get_actor)]
