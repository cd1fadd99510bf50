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
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from api.exceptions import MalformedRequestError, RateLimitedError, UnauthenticatedError
from api.repositories.access import queue_access
from api.schemas.api_keys import TokenRequest
from api.services import idempotency
from api.services.access import Access, access_from_row, authorize
from api.services.api_keys import Credentials, basic_credentials, credentials
from api.services.audit import AuditActor
from api.services.compensation import Compensations
from api.services.identity import Principal, principal_from_token
from api.services.ratelimit import get_rate_limiter
from api.settings import ApiSettings, get_settings
from saascontracts import identity as edge_contract
from saascore.db.cells import UnknownCellError, route_database
from saascore.db.connection import Connection, Database, Deferred, get_database
from saascore.db.replica import replica_for, replica_reads
from saascore.db.tenancy import tenant_pipeline, tenant_reads
from saascore.events import remember_subscriptions
from saascore.jobs.outbox import deliver_pending, discard_pending
from saascore.observability import get_logger

if TYPE_CHECKING:
    from api.services.scim import ScimContext  # only SCIM routes need the SCIM services at run time

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
    "cell": "cell",
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
        verified = getattr(principal, attribute)
        if claimed is not None and (verified is None or not hmac.compare_digest(claimed, str(verified))):
            raise UnauthenticatedError("identity headers do not match the verified token")
    logger.append_keys(tenant_id=str(principal.tenant_id), user_id=str(principal.user_id))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

_VIEWER_HOST = re.compile(edge_contract.VIEWER_HOST_PATTERN)


async def get_public_origin(request: Request) -> str | None:
    """``https://<host the viewer asked for>`` as the edge forwarded it; None off the edge path."""
    host = request.headers.get(edge_contract.VIEWER_HOST_HEADER, "")
    if len(host) > edge_contract.MAX_VIEWER_HOST_CHARS or not _VIEWER_HOST.fullmatch(host):
        return None
    return f"https://{host}"


PublicOriginDep = Annotated[str | None, Depends(get_public_origin)]


async def rate_limited_principal(request: Request, principal: PrincipalDep) -> Principal:
    limiter = get_rate_limiter()
    if limiter is None:
        return principal
    # An API key is counted on its own, so one machine client cannot use up its creator's share.
    caller = principal.api_key_id or principal.user_id
    decision = limiter.check(tenant_id=principal.tenant_id, user_id=caller, plan=principal.plan)
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


async def get_compensations() -> Compensations:
    return Compensations()


CompensationsDep = Annotated[Compensations, Depends(get_compensations)]


async def get_tenant_db(
    principal: Annotated[Principal, Depends(rate_limited_principal)], db: Annotated[Database, Depends(get_db)]
) -> Database:
    """The database of the caller's cell, from the signed cell claim (``db`` stands for the pooled cell)."""
    try:
        return route_database(principal.tenant_id, claimed_cell=principal.cell, default=db)
    except UnknownCellError as exc:
        raise UnauthenticatedError("the session names a cell that does not exist; refresh it") from exc


TenantDb = Annotated[Database, Depends(get_tenant_db)]


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
    db: TenantDb,
    compensations: CompensationsDep,
) -> AsyncIterator[TenantWork]:
    """The request's database work for the caller's tenant (RLS): a pipelined transaction for a write,
    read-only flights for a safe method; either way the first round trip loads access (and claims).
    External changes the request registered in ``compensations`` are undone, and the outbox jobs it
    queued dropped, when it does not commit."""
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
    try:
        with work(principal.tenant_id, begin, database=db) as (conn, (access, claimed)):
            yield TenantWork(conn, access, claimed)
    except BaseException:
        compensations.run()
        discard_pending()
        raise
    # Jobs the request queued through the outbox (an event's dispatch, a report) are sent once it has
    # committed; a failed send leaves them to the sweeper.
    deliver_pending(database=db)


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
    row = work.access_row.result()
    if row is not None:
        remember_subscriptions(principal.tenant_id, row["webhook_event_types"])
    return access_from_row(principal, row, datetime.now(UTC))


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
        api_key_id=principal.api_key_id,
    )


ActorDep = Annotated[AuditActor, Depends(get_actor)]


def viewer_authorization(request: Request) -> str | None:
    """The viewer's Authorization header: forwarded by the edge (OAC overwrites it), else as sent."""
    headers = request.headers
    return headers.get(edge_contract.VIEWER_AUTHORIZATION_HEADER) or headers.get("authorization")


@dataclass(frozen=True, slots=True)
class ClientCredentialsGrant:
    credentials: Credentials
    scope: str | None


async def client_credentials(
    request: Request, body: Annotated[bytes, Depends(request_body)]
) -> ClientCredentialsGrant:
    """An RFC 6749 §4.4 token request: form-encoded (the standard) or JSON, client authenticated by HTTP
    Basic or by client_id/client_secret in the body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            form = TokenRequest.model_validate_json(body or b"{}")
        else:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
            if len({name for name, _ in pairs}) != len(pairs):
                raise MalformedRequestError(
                    "a parameter is repeated (RFC 6749 §3.2)", error="invalid_request"
                )
            form = TokenRequest.model_validate(dict(pairs))
    except (ValueError, ValidationError) as exc:
        raise MalformedRequestError("the token request is malformed", error="invalid_request") from exc
    in_body = (
        Credentials(form.client_id, form.client_secret)
        if form.client_id is not None and form.client_secret is not None
        else None
    )
    presented = credentials(
        grant_type=form.grant_type, basic=basic_credentials(viewer_authorization(request)), body=in_body
    )
    return ClientCredentialsGrant(presented, form.scope)


ClientCredentialsDep = Annotated[ClientCredentialsGrant, Depends(client_credentials)]


@dataclass(frozen=True, slots=True)
class ScimRequest:
    """A SCIM request's transaction (in the token's tenant) and its caller."""

    conn: Connection
    context: ScimContext


async def scim_tx(
    request: Request, db: Annotated[Database, Depends(get_db)], info: InfoDep
) -> AsyncIterator[ScimRequest]:
    """The SCIM token authenticates the request and selects its tenant; rate limits count the token."""
    from api.services.scim_tokens import authenticated

    with authenticated(
        db, viewer_authorization(request), request_id=info.request_id, ip=info.ip, user_agent=info.user_agent
    ) as (conn, context, plan):
        limiter = get_rate_limiter()
        decision = (
            limiter.check(tenant_id=context.tenant_id, user_id=context.token_id, plan=plan)
            if limiter
            else None
        )
        if decision is not None:
            request.state.rate_limit_headers = decision.headers()
            if not decision.allowed:
                error = RateLimitedError(
                    f"the {decision.exceeded} request limit is reached", limit=decision.exceeded
                )
                error.headers = decision.headers()
                raise error
        yield ScimRequest(conn, context)


ScimTx = Annotated[ScimRequest, Depends(scim_tx, scope="function")]
