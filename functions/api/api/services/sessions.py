"""Sign-up, sign-in, refresh (rotation with reuse detection) and sign-out.

Refresh tokens are self-describing, ``<tenant id>.<secret>``: the tenant part selects the tenant
transaction (RLS stays on; no cross-tenant look-up), only SHA-256 of the secret is stored. A refresh
token is used once; presenting a used one revokes its session, i.e. the whole token family.

Every session token carries the tenant's cell (``cell`` claim): sign-up places the tenant (its reserved
cell, else the pooled one) in the directory first; sign-in and refresh ask the router, so a session picks
up a new cell on its next refresh. ``db`` is the pooled cell's Database (the control plane).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg import errors

from api.exceptions import ConflictError, FieldValidationError, PermissionDeniedError, UnauthenticatedError
from api.repositories import directory
from api.repositories import members as members_repo
from api.repositories import sessions as repo
from api.repositories import sso as sso_repo
from api.repositories import tenants as tenants_repo
from api.schemas.sessions import SessionTokens
from api.services import audit, sso_domains, sso_provisioning
from api.services.access import effective_plan
from api.services.audit import AuditActor
from api.services.identity import IdpIdentity, issue_access_token
from api.settings import ApiSettings
from saascore.billing.plans import TRIAL_DAYS, TRIAL_PLAN
from saascore.db.cells import POOLED_CELL, cell_database, first_in_cells, get_cell_router, place_tenant
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenant_transaction, tenantless_transaction

NOT_A_MEMBER = "you are not a member of that tenant"


@dataclass(frozen=True, slots=True)
class Origin:
    request_id: str | None
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class _Opened:
    session_id: uuid.UUID
    refresh_token: str
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    plan: str
    cell: str


def _new_refresh_token(tenant_id: uuid.UUID) -> tuple[str, bytes]:
    secret = secrets.token_urlsafe(32)
    return f"{tenant_id}.{secret}", hashlib.sha256(secret.encode()).digest()


def parse_refresh_token(token: str) -> tuple[uuid.UUID, bytes]:
    tenant_part, _, secret = token.partition(".")
    try:
        tenant_id = uuid.UUID(tenant_part)
    except ValueError as exc:
        raise UnauthenticatedError("refresh token is not valid") from exc
    if not secret:
        raise UnauthenticatedError("refresh token is not valid")
    return tenant_id, hashlib.sha256(secret.encode()).digest()


def _actor(tenant_id: uuid.UUID, user_id: uuid.UUID | None, origin: Origin) -> AuditActor:
    return AuditActor(tenant_id, user_id, origin.request_id, origin.ip, origin.user_agent)


def _open(
    conn: Connection,
    settings: ApiSettings,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    plan: str,
    cell: str,
    origin: Origin,
) -> _Opened:
    session_id = repo.create_session(
        conn,
        tenant_id=tenant_id,
        user_id=user_id,
        ttl_seconds=settings.refresh_token_ttl_seconds,
        ip=origin.ip,
        user_agent=origin.user_agent,
    )
    refresh_token, token_hash = _new_refresh_token(tenant_id)
    repo.insert_refresh_token(
        conn,
        tenant_id=tenant_id,
        session_id=session_id,
        token_hash=token_hash,
        ttl_seconds=settings.refresh_token_ttl_seconds,
    )
    audit.record(
        conn,
        _actor(tenant_id, user_id, origin),
        action="session.created",
        resource_type="session",
        resource_id=session_id,
    )
    return _Opened(session_id, refresh_token, user_id, tenant_id, role, plan, cell)


def _tokens(opened: _Opened, settings: ApiSettings) -> SessionTokens:
    # Signed after commit: a KMS call never holds the transaction open.
    access_token, ttl = issue_access_token(
        user_id=opened.user_id,
        tenant_id=opened.tenant_id,
        session_id=opened.session_id,
        role=opened.role,
        plan=opened.plan,
        cell=opened.cell,
        settings=settings,
    )
    return SessionTokens(
        access_token=access_token,
        expires_in=ttl,
        refresh_token=opened.refresh_token,
        session_id=opened.session_id,
        tenant_id=opened.tenant_id,
        user_id=opened.user_id,
        role=opened.role,
        plan=opened.plan,
    )


def _upsert_user(conn: Connection, identity: IdpIdentity) -> uuid.UUID:
    return directory.upsert_idp_user(
        conn,
        issuer=identity.issuer,
        subject=identity.subject,
        email=identity.email,
        display_name=identity.name,
    )


def sign_up(
    db: Database,
    settings: ApiSettings,
    identity: IdpIdentity,
    *,
    tenant_name: str,
    tenant_slug: str,
    origin: Origin,
) -> SessionTokens:
    """A new tenant in trial, the caller as its owner, and a session in it."""
    tenant_id = uuid.uuid4()
    trial_ends_at = datetime.now(UTC) + timedelta(days=TRIAL_DAYS)
    router = get_cell_router()
    try:
        # Placed before the tenant exists: an entry whose tenant never commits names a uuid nobody holds.
        cell = place_tenant(db, tenant_id, router.placement_cell(tenant_slug), slug=tenant_slug)
        router.remember(tenant_id, cell)
        with tenant_transaction(tenant_id, database=cell_database(cell, default=db)) as conn:
            user_id = _upsert_user(conn, identity)
            tenant = tenants_repo.insert(
                conn,
                tenant_id=tenant_id,
                name=tenant_name,
                slug=tenant_slug,
                plan=TRIAL_PLAN,
                trial_ends_at=trial_ends_at,
            )
            owner_role = tenants_repo.seed_system_roles(conn, tenant_id=tenant_id)
            membership = members_repo.insert_active(
                conn, tenant_id=tenant_id, user_id=user_id, role_id=owner_role
            )
            actor = _actor(tenant_id, user_id, origin)
            audit.record(
                conn,
                actor,
                action="tenant.created",
                resource_type="tenant",
                resource_id=tenant_id,
                after=tenant,
            )
            audit.record(
                conn,
                actor,
                action="member.added",
                resource_type="member",
                resource_id=membership,
                after={"user_id": user_id, "role": "owner"},
            )
            opened = _open(
                conn,
                settings,
                tenant_id=tenant_id,
                user_id=user_id,
                role="owner",
                plan=TRIAL_PLAN,
                cell=cell,
                origin=origin,
            )
    except errors.UniqueViolation as exc:
        raise ConflictError("that tenant slug is taken", field="tenant_slug") from exc
    return _tokens(opened, settings)


def _tenant_of_provider(db: Database, provider_name: str) -> tuple[uuid.UUID | None, str]:
    """A federated token names its tenant through the provider (SSO connection) it came through; each
    cell answers for its own tenants' connections, and provider names are unique (Cognito's pool)."""
    tenant_id = first_in_cells(
        lambda conn: sso_repo.tenant_of_provider(conn, provider_name=provider_name), default=db
    )
    if tenant_id is None:
        return None, POOLED_CELL
    return tenant_id, get_cell_router().tenant_cell(tenant_id)


def _resolve_tenant(db: Database, tenant: str | None, identity: IdpIdentity) -> tuple[uuid.UUID | None, str]:
    """The tenant (by id, slug, or the SSO provider of the token) and its cell; a slug lives in the cell it
    was placed in at sign-up, unless the tenant moved (the directory then names its cell)."""
    if tenant is None:
        if identity.provider_name is None:
            raise FieldValidationError(
                "tenant is required unless the token comes through SSO", pointer="#/tenant"
            )
        return _tenant_of_provider(db, identity.provider_name)
    router = get_cell_router()
    try:
        tenant_id = uuid.UUID(tenant)
    except ValueError:
        with tenantless_transaction(database=db) as conn:
            moved = directory.moved_tenant_by_slug(conn, slug=tenant)
        if moved is not None:
            return moved
        cell = router.placement_cell(tenant)
        with tenantless_transaction(database=cell_database(cell, default=db)) as conn:
            return directory.tenant_id_by_slug(conn, slug=tenant), cell
    return tenant_id, router.tenant_cell(tenant_id)


def sign_in(
    db: Database, settings: ApiSettings, identity: IdpIdentity, *, tenant: str | None, origin: Origin
) -> SessionTokens:
    """A session in ``tenant`` for a member (or an invitee whose verified email matches); a federated
    sign-in through one of the tenant's SSO connections is provisioned and gets its role from its groups."""
    tenant_id, cell = _resolve_tenant(db, tenant, identity)
    if tenant_id is None:
        raise PermissionDeniedError(NOT_A_MEMBER)  # same answer as for a tenant that exists
    opened: _Opened | None = None
    with tenant_transaction(tenant_id, database=cell_database(cell, default=db)) as conn:
        sso_domains.check_sign_in_allowed(conn, identity)
        user_id = _upsert_user(conn, identity)
        sso_provisioning.provision(conn, _actor(tenant_id, user_id, origin), identity, user_id)
        claims = repo.member_claims(conn, user_id=user_id)
        if (
            claims is None
            and identity.email_verified
            and repo.accept_invitation(conn, user_id=user_id, email=identity.email)
        ):
            audit.record(
                conn,
                _actor(tenant_id, user_id, origin),
                action="member.joined",
                resource_type="member",
                resource_id=user_id,
            )
            claims = repo.member_claims(conn, user_id=user_id)
        if claims is not None:
            plan = effective_plan(
                claims["plan"], claims["billing_status"], claims["trial_ends_at"], datetime.now(UTC)
            )
            opened = _open(
                conn,
                settings,
                tenant_id=tenant_id,
                user_id=user_id,
                role=claims["role"],
                plan=plan,
                cell=cell,
                origin=origin,
            )
    if opened is None:
        raise PermissionDeniedError(NOT_A_MEMBER)
    return _tokens(opened, settings)


def refresh(db: Database, settings: ApiSettings, refresh_token: str, *, origin: Origin) -> SessionTokens:
    tenant_id, token_hash = parse_refresh_token(refresh_token)
    refusal: str | None = None
    opened: _Opened | None = None
    cell = get_cell_router().tenant_cell(tenant_id)
    with tenant_transaction(tenant_id, database=cell_database(cell, default=db)) as conn:
        row = repo.find_refresh_token(conn, token_hash=token_hash)
        if row is None:
            refusal = "refresh token is not valid"
        elif row["used_at"] is not None:
            # Someone replayed a rotated token: end the whole family (committed before refusing).
            repo.revoke_session(conn, session_id=row["session_id"], reason="refresh token reuse")
            audit.record(
                conn,
                _actor(tenant_id, row["user_id"], origin),
                action="session.revoked",
                resource_type="session",
                resource_id=row["session_id"],
                after={"reason": "refresh token reuse"},
            )
            refusal = "refresh token was already used; the session is revoked"
        elif row["expired"] or row["session_over"]:
            refusal = "the session has ended; sign in again"
        else:
            claims = repo.member_claims(conn, user_id=row["user_id"])
            if claims is None:
                repo.revoke_session(conn, session_id=row["session_id"], reason="membership ended")
                refusal = "you are no longer a member of this tenant"
            else:
                new_token, new_hash = _new_refresh_token(tenant_id)
                new_id = repo.insert_refresh_token(
                    conn,
                    tenant_id=tenant_id,
                    session_id=row["session_id"],
                    token_hash=new_hash,
                    ttl_seconds=settings.refresh_token_ttl_seconds,
                )
                repo.mark_used(conn, token_id=row["id"], replaced_by=new_id)
                plan = effective_plan(
                    claims["plan"], claims["billing_status"], claims["trial_ends_at"], datetime.now(UTC)
                )
                opened = _Opened(
                    row["session_id"], new_token, row["user_id"], tenant_id, claims["role"], plan, cell
                )
    if opened is None:
        raise UnauthenticatedError(refusal)
    return _tokens(opened, settings)


def sign_out(conn: Connection, actor: AuditActor, session_id: uuid.UUID) -> None:
    if repo.revoke_session(conn, session_id=session_id, reason="signed out"):
        audit.record(
            conn,
            actor,
            action="session.revoked",
            resource_type="session",
            resource_id=session_id,
            after={"reason": "signed out"},
        )
