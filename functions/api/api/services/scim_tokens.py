"""SCIM bearer tokens per tenant (issue, rotate, revoke; shown once, stored as SHA-256) and authenticating a
SCIM request with one.

A token is ``scim_<public id>_<secret>``: the public id finds the tenant through ``app.scim_token_tenant`` (the
tenant is not known before), the secret is compared in constant time inside that tenant's transaction, which
then serves the whole SCIM request under RLS.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from api.exceptions import NotFoundError, ScimError
from api.repositories import scim as repo
from api.schemas.scim import ScimToken, ScimTokenCreated, ScimTokenList
from api.services import audit
from api.services.access import Access, effective_plan
from api.services.audit import AuditActor
from api.services.scim import ScimContext
from api.services.scim_schema import SCIM_PATH_PREFIX
from saascore.billing.plans import plan_for
from saascore.db.cells import route_database, tenant_of_key
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenant_transaction

PREFIX = "scim_"
_TOKEN = re.compile(r"scim_([0-9a-f]{16})_([0-9a-f]{64})")
INVALID = "the SCIM token is not valid"


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _public(row: dict[str, Any]) -> ScimToken:
    return ScimToken(prefix=PREFIX + row["public_id"], **{k: v for k, v in row.items() if k != "public_id"})


def _issue(conn: Connection, access: Access, name: str) -> tuple[dict[str, Any], str]:
    public_id, secret = secrets.token_hex(8), secrets.token_hex(32)
    row = repo.insert_token(
        conn,
        tenant_id=access.principal.tenant_id,
        public_id=public_id,
        secret_hash=_hash(secret),
        name=name,
        created_by=access.principal.user_id,
    )
    return row, f"{PREFIX}{public_id}_{secret}"


def create(conn: Connection, access: Access, actor: AuditActor, *, name: str) -> ScimTokenCreated:
    row, token = _issue(conn, access, name)
    audit.record(
        conn,
        actor,
        action="scim_token.created",
        resource_type="scim_token",
        resource_id=row["id"],
        after={"name": name},
    )
    return ScimTokenCreated(**_public(row).model_dump(), token=token, base_url=SCIM_PATH_PREFIX)


def list_tokens(conn: Connection) -> ScimTokenList:
    return ScimTokenList(items=[_public(row) for row in repo.list_tokens(conn)])


def _live(conn: Connection, token_id: uuid.UUID) -> dict[str, Any]:
    row = repo.get_token(conn, token_id=token_id)
    if row is None:
        raise NotFoundError("no such SCIM token")
    return row


def rotate(conn: Connection, access: Access, actor: AuditActor, token_id: uuid.UUID) -> ScimTokenCreated:
    """A new token in place of this one, which stops working at once (give the IdP the new one first)."""
    old = _live(conn, token_id)
    if old["revoked_at"] is not None:
        raise NotFoundError("that SCIM token is revoked; create a new one")
    row, token = _issue(conn, access, old["name"])
    repo.revoke_token(conn, token_id=token_id, replaced_by=row["id"])
    audit.record(
        conn,
        actor,
        action="scim_token.rotated",
        resource_type="scim_token",
        resource_id=token_id,
        after={"replaced_by": row["id"]},
    )
    return ScimTokenCreated(**_public(row).model_dump(), token=token, base_url=SCIM_PATH_PREFIX)


def revoke(conn: Connection, actor: AuditActor, token_id: uuid.UUID) -> None:
    row = _live(conn, token_id)
    if row["revoked_at"] is not None:
        return
    repo.revoke_token(conn, token_id=token_id, replaced_by=None)
    audit.record(conn, actor, action="scim_token.revoked", resource_type="scim_token", resource_id=token_id)


def _refuse(detail: str) -> ScimError:
    error = ScimError(detail, status=401)
    error.headers = {"WWW-Authenticate": 'Bearer realm="scim"'}
    return error


@contextmanager
def authenticated(
    db: Database, authorization: str | None, *, request_id: str, ip: str | None, user_agent: str | None
) -> Iterator[tuple[Connection, ScimContext, str]]:
    """The SCIM request's one transaction in the token's tenant, its context, and the tenant's plan."""
    if not authorization:
        raise _refuse("a SCIM bearer token is required")
    scheme, _, value = authorization.partition(" ")
    match = _TOKEN.fullmatch(value.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise _refuse(INVALID)
    public_id, secret = match.groups()
    # The token's row is in its tenant's cell: each cell is asked (once per container), then the tenant
    # routed to its cell.
    tenant_id = tenant_of_key(
        "scim_token", public_id, lambda conn: repo.token_tenant(conn, public_id=public_id), default=db
    )
    if tenant_id is None:
        raise _refuse(INVALID)
    with tenant_transaction(tenant_id, database=route_database(tenant_id, default=db)) as conn:
        row = repo.find_token_for_auth(conn, public_id=public_id)
        if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), _hash(secret)):
            raise _refuse(INVALID)
        if row["revoked_at"] is not None:
            raise _refuse("the SCIM token was revoked")
        if row["access_level"] == "suspended":
            raise ScimError("the tenant is suspended", status=403)
        repo.touch_token(conn, token_id=row["id"])
        plan = effective_plan(row["plan"], row["billing_status"], row["trial_ends_at"], datetime.now(UTC))
        context = ScimContext(
            tenant_id=tenant_id,
            token_id=row["id"],
            token_creator=row["created_by"],
            base_url=SCIM_PATH_PREFIX,
            actor=AuditActor(tenant_id, None, request_id, ip, user_agent),
            max_members=plan_for(plan).entitlements.max_members,
        )
        yield conn, context, plan
