"""Tenant API keys: create/list/revoke, and the client-credentials exchange for an access token.

A key is ``sk_<public id>_<secret>`` (``client_id`` = ``sk_<public id>``, ``client_secret`` = the secret):
the public id finds the tenant through one narrow definer function (no tenant or cell is written into the
key, so it survives a tenant moving cells), the secret is compared as SHA-256 in constant time. Each key
owns one session row, created with it and revoked with it, so the per-request session check
(``repositories/access.py``) refuses its tokens the moment it is revoked, and the key's scopes cap the
creator's current permissions on every request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from api.exceptions import MalformedRequestError, NotFoundError, PermissionDeniedError, UnauthenticatedError
from api.repositories import api_keys as repo
from api.repositories import sessions as sessions_repo
from api.schemas.api_keys import AccessTokenResponse, ApiKey, ApiKeyCreate, ApiKeyCreated
from api.schemas.common import Page
from api.services import audit
from api.services.access import Access, effective_plan
from api.services.audit import AuditActor
from api.services.identity import issue_access_token
from api.services.pagination import encode_cursor, keyset_after
from api.settings import ApiSettings
from saascore.db.cells import route_database, tenant_of_key
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenant_transaction

CLIENT_ID_PREFIX = "sk_"
_CLIENT_ID = re.compile(r"sk_([0-9a-f]{16})")
_SECRET = re.compile(r"[0-9a-f]{64}")
GRANT_TYPE = "client_credentials"
INVALID_KEY = "the API key is not valid"


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str
    client_secret: str


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _public(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        client_id=CLIENT_ID_PREFIX + row["public_id"], **{k: v for k, v in row.items() if k != "public_id"}
    )


def create(conn: Connection, access: Access, actor: AuditActor, body: ApiKeyCreate) -> ApiKeyCreated:
    scopes = sorted(set(body.scopes))
    missing = sorted(set(scopes) - access.permissions)
    if missing:
        raise PermissionDeniedError("an API key cannot hold permissions you do not hold", missing=missing)
    principal = access.principal
    ttl = timedelta(days=body.expires_in_days)
    session_id = sessions_repo.create_session(
        conn,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        ttl_seconds=int(ttl.total_seconds()),
        ip=actor.ip,
        user_agent=f"api-key: {body.name}"[:512],
    )
    public_id, secret = secrets.token_hex(8), secrets.token_hex(32)
    row = repo.insert(
        conn,
        tenant_id=principal.tenant_id,
        public_id=public_id,
        secret_hash=_hash(secret),
        name=body.name,
        scopes=scopes,
        created_by=principal.user_id,
        session_id=session_id,
        expires_at=datetime.now(UTC) + ttl,
    )
    key = _public(row)
    audit.record(
        conn,
        actor,
        action="api_key.created",
        resource_type="api_key",
        resource_id=key.id,
        after={"name": key.name, "client_id": key.client_id, "scopes": scopes, "expires_at": key.expires_at},
    )
    return ApiKeyCreated(**key.model_dump(), key=f"{key.client_id}_{secret}", client_secret=secret)


def list_keys(conn: Connection, *, limit: int, cursor: str | None) -> Page[ApiKey]:
    scope = {"list": "api_keys"}
    rows = repo.list_page(conn, limit=limit, after=keyset_after(cursor, scope))
    items = [_public(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)], scope)
        if len(rows) > limit
        else None
    )
    return Page[ApiKey](items=items, next_cursor=next_cursor)


def revoke(conn: Connection, actor: AuditActor, key_id: uuid.UUID) -> None:
    """Revoking twice is not an error; the key's session (hence every token of the key) ends at once."""
    assert actor.user_id is not None
    row = repo.revoke(conn, key_id=key_id, revoked_by=actor.user_id)
    if row is None:
        raise NotFoundError("no such API key")
    if row["was_revoked_at"] is not None:
        return
    sessions_repo.revoke_session(conn, session_id=row["session_id"], reason="api key revoked")
    audit.record(
        conn,
        actor,
        action="api_key.revoked",
        resource_type="api_key",
        resource_id=key_id,
        after={"name": row["name"], "client_id": CLIENT_ID_PREFIX + row["public_id"]},
    )


def _refuse(detail: str) -> UnauthenticatedError:
    error = UnauthenticatedError(detail, error="invalid_client")
    error.headers = {"WWW-Authenticate": 'Basic realm="api-keys"'}
    return error


def credentials(
    *, grant_type: str | None, basic: Credentials | None, body: Credentials | None
) -> Credentials:
    """The one set of client credentials of a token request (RFC 6749 §2.3.1: not both ways at once)."""
    if grant_type != GRANT_TYPE:
        raise MalformedRequestError(
            f"grant_type must be {GRANT_TYPE}",
            error="unsupported_grant_type" if grant_type else "invalid_request",
        )
    if basic is not None and body is not None:
        raise MalformedRequestError(
            "send the client credentials in the Authorization header or the body, not both",
            error="invalid_request",
        )
    presented = basic or body
    if presented is None:
        raise _refuse("client credentials are required (HTTP Basic or client_id/client_secret)")
    return presented


def exchange(
    db: Database, settings: ApiSettings, presented: Credentials, *, scope: str | None
) -> AccessTokenResponse:
    """A short-lived access token for a live key; every refusal is a 401 that says why."""
    match = _CLIENT_ID.fullmatch(presented.client_id)
    if match is None or _SECRET.fullmatch(presented.client_secret) is None:
        raise _refuse(INVALID_KEY)
    public_id = match.group(1)
    # The key's row is in its tenant's cell: each cell is asked (once per container), then the tenant
    # routed to its cell.
    tenant_id = tenant_of_key(
        "api_key", public_id, lambda conn: repo.tenant_of(conn, public_id=public_id), default=db
    )
    if tenant_id is None:
        raise _refuse(INVALID_KEY)
    with tenant_transaction(tenant_id, database=route_database(tenant_id, default=db)) as conn:
        row = repo.find_for_exchange(conn, public_id=public_id)
        if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), _hash(presented.client_secret)):
            raise _refuse(INVALID_KEY)
        if row["revoked_at"] is not None:
            raise _refuse("the API key was revoked")
        if row["expired"]:
            raise _refuse("the API key has expired")
        claims = sessions_repo.member_claims(conn, user_id=row["created_by"])
        if claims is None:
            raise _refuse("the API key's creator is no longer a member of the tenant")
        if row["session_over"]:
            raise _refuse("the API key's session has ended (its creator's sessions were revoked)")
        granted = sorted(row["scopes"])
        if scope is not None and not set(scope.split()) <= set(granted):
            raise MalformedRequestError("scope asks for more than the key holds", error="invalid_scope")
        repo.touch(conn, key_id=row["id"])
        plan = effective_plan(
            claims["plan"], claims["billing_status"], claims["trial_ends_at"], datetime.now(UTC)
        )
    # Signed after commit: a KMS call never holds the transaction open.
    token, ttl = issue_access_token(
        user_id=row["created_by"],
        tenant_id=tenant_id,
        session_id=row["session_id"],
        role=claims["role"],
        plan=plan,
        settings=settings,
        api_key_id=row["id"],
    )
    return AccessTokenResponse(access_token=token, expires_in=ttl, scope=" ".join(granted))


def basic_credentials(authorization: str | None) -> Credentials | None:
    """RFC 6749 §2.3.1 / RFC 7617: ``Basic base64(urlencoded id ":" urlencoded secret)``; None when absent."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise _refuse("the Authorization header must use the Basic scheme here")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _refuse("the Basic credentials are not valid base64") from exc
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise _refuse("the Basic credentials need client_id:client_secret")
    return Credentials(unquote_plus(client_id), unquote_plus(client_secret))
