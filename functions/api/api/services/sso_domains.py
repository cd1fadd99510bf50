"""Verified e-mail domains: DNS TXT proof of control, home-realm discovery and enforced SSO.

A claim gets a random token; the tenant publishes ``saas-verification=<token>`` as a TXT record at
``_saas-verification.<domain>`` and asks for verification. A domain is verified by at most one tenant (a
unique index decides races). Discovery answers, before any tenant is known, which sign-in an address
should use; its answer has the same shape for every address, and says nothing about a tenant.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlencode

from psycopg import errors

from api.exceptions import (
    ConflictError,
    DomainNotVerifiedError,
    FieldValidationError,
    NotFoundError,
    SsoRequiredError,
)
from api.repositories import sso as repo
from api.schemas.sso import (
    VERIFICATION_RECORD_PREFIX,
    VERIFICATION_VALUE_PREFIX,
    DiscoveryAnswer,
    DnsChallenge,
    SsoDomain,
    SsoDomainCreate,
    SsoDomainUpdate,
)
from api.services import audit
from api.services.audit import AuditActor
from api.services.dns_txt import TxtResolver, txt_values
from api.services.identity import IdpIdentity
from api.settings import ApiSettings
from saascore.db.cells import every_cell_database, first_in_cells
from saascore.db.connection import Connection, Database
from saascore.db.tenancy import tenant_transaction

MAX_DOMAINS_PER_TENANT = 20
AUTHORIZE_SCOPES = "openid email profile"
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def normalize_domain(text: str) -> str | None:
    """The lower-case ASCII (IDNA) form of a domain with at least two labels, or None."""
    try:
        name = text.strip().rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2:
        return None
    for label in labels:
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-" or set(label) - _LABEL_CHARS:
            return None
    return name


def challenge_for(domain: str, token: str) -> DnsChallenge:
    return DnsChallenge(
        record_name=f"{VERIFICATION_RECORD_PREFIX}.{domain}",
        record_value=f"{VERIFICATION_VALUE_PREFIX}{token}",
    )


def _public(row: dict[str, Any]) -> SsoDomain:
    return SsoDomain(
        id=row["id"],
        domain=row["domain"],
        verified=row["verified_at"] is not None,
        verified_at=row["verified_at"],
        connection_id=row["connection_id"],
        enforce_sso=row["enforce_sso"],
        challenge=challenge_for(row["domain"], row["verification_token"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _audited(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "verification_token"}


def _row(conn: Connection, domain_id: uuid.UUID, *, for_update: bool = False) -> dict[str, Any]:
    row = repo.get_domain(conn, domain_id=domain_id, for_update=for_update)
    if row is None:
        raise NotFoundError(f"domain {domain_id} not found")
    return row


def _check_connection(conn: Connection, connection_id: uuid.UUID | None) -> None:
    if connection_id is not None and repo.get(conn, connection_id=connection_id) is None:
        raise FieldValidationError(f"SSO connection {connection_id} not found", pointer="#/connection_id")


def list_domains(conn: Connection) -> list[SsoDomain]:
    return [_public(row) for row in repo.list_domains(conn)]


def get_domain(conn: Connection, domain_id: uuid.UUID) -> SsoDomain:
    return _public(_row(conn, domain_id))


def _verified_elsewhere(conn: Connection, tenant_id: uuid.UUID, domain: str) -> bool:
    """Has another tenant verified ``domain``, in this cell (``conn``, the request's transaction) or in any
    other? Each cell holds its own tenants' domains, and discovery must find one tenant. The other cells
    are asked as this tenant (reads only), so a copy of its own row left by a move does not count."""
    if repo.domain_verified_elsewhere(conn, domain=domain):
        return True
    for database in every_cell_database():
        if database.holds(conn):
            continue
        with tenant_transaction(tenant_id, database=database) as other:
            if repo.domain_verified_elsewhere(other, domain=domain):
                return True
    return False


def create_domain(conn: Connection, actor: AuditActor, body: SsoDomainCreate) -> SsoDomain:
    domain = normalize_domain(body.domain)
    if domain is None:
        raise FieldValidationError("not a domain name with at least two labels", pointer="#/domain")
    if repo.count_domains(conn) >= MAX_DOMAINS_PER_TENANT:
        raise ConflictError(f"a tenant may claim at most {MAX_DOMAINS_PER_TENANT} domains")
    _check_connection(conn, body.connection_id)
    if _verified_elsewhere(conn, actor.tenant_id, domain):
        raise ConflictError(f"{domain} is verified by another tenant", field="domain")
    try:
        row = repo.insert_domain(
            conn,
            tenant_id=actor.tenant_id,
            domain=domain,
            token=secrets.token_urlsafe(24),
            connection_id=body.connection_id,
        )
    except errors.UniqueViolation as exc:
        raise ConflictError(f"this tenant has already claimed {domain}", field="domain") from exc
    audit.record(
        conn,
        actor,
        action="sso_domain.claimed",
        resource_type="sso_domain",
        resource_id=row["id"],
        after=_audited(row),
    )
    return _public(row)


def verify_domain(
    conn: Connection, actor: AuditActor, domain_id: uuid.UUID, resolver: TxtResolver
) -> SsoDomain:
    row = _row(conn, domain_id, for_update=True)
    if row["verified_at"] is not None:
        return _public(row)
    domain = row["domain"]
    if _verified_elsewhere(conn, actor.tenant_id, domain):
        raise ConflictError(f"{domain} is verified by another tenant", field="domain")
    challenge = challenge_for(domain, row["verification_token"])
    found = txt_values(resolver.txt(challenge.record_name))
    if challenge.record_value not in found:
        raise DomainNotVerifiedError(
            f"no TXT record {challenge.record_value!r} at {challenge.record_name} "
            f"({len(found)} other TXT value(s) there); DNS changes can take a while to appear",
            record_name=challenge.record_name,
            record_value=challenge.record_value,
        )
    try:
        verified = repo.mark_verified(conn, domain_id=domain_id)
    except errors.UniqueViolation as exc:  # another tenant verified it a moment ago
        raise ConflictError(f"{domain} is verified by another tenant", field="domain") from exc
    audit.record(
        conn,
        actor,
        action="sso_domain.verified",
        resource_type="sso_domain",
        resource_id=domain_id,
        before=_audited(row),
        after=_audited(verified),
    )
    return _public(verified)


def update_domain(
    conn: Connection, actor: AuditActor, domain_id: uuid.UUID, body: SsoDomainUpdate
) -> SsoDomain:
    row = _row(conn, domain_id, for_update=True)
    changes: dict[str, Any] = {}
    if "connection_id" in body.model_fields_set:
        _check_connection(conn, body.connection_id)
        changes["connection_id"] = body.connection_id
    if body.enforce_sso is not None:
        changes["enforce_sso"] = body.enforce_sso
    after = {**row, **changes}
    if after["enforce_sso"] and (after["verified_at"] is None or after["connection_id"] is None):
        raise ConflictError("enforcing SSO needs a verified domain with a connection")
    updated = repo.update_domain(conn, domain_id=domain_id, changes=changes)
    audit.record(
        conn,
        actor,
        action="sso_domain.updated",
        resource_type="sso_domain",
        resource_id=domain_id,
        before=_audited(row),
        after=_audited(updated),
    )
    return _public(updated)


def delete_domain(conn: Connection, actor: AuditActor, domain_id: uuid.UUID) -> None:
    row = _row(conn, domain_id, for_update=True)
    repo.delete_domain(conn, domain_id=domain_id)
    audit.record(
        conn,
        actor,
        action="sso_domain.deleted",
        resource_type="sso_domain",
        resource_id=domain_id,
        before=_audited(row),
    )


def email_domain(email: str) -> str | None:
    _, at, domain = email.rpartition("@")
    return normalize_domain(domain) if at else None


PASSWORD = DiscoveryAnswer(method="password", authorize_url=None, sso_required=False)


def discover(db: Database, settings: ApiSettings, email: str) -> DiscoveryAnswer:
    domain = email_domain(email)
    if domain is None:
        return PASSWORD
    # A domain is verified in its tenant's cell; at most one tenant holds it (see _verified_elsewhere).
    found = first_in_cells(lambda conn: repo.discover(conn, domain=domain), default=db)
    hosted_ui, client_id = settings.sso_hosted_ui_url, settings.sso_app_client_id
    if found is None or not hosted_ui or not client_id or not settings.sso_redirect_uri:
        return PASSWORD
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": settings.sso_redirect_uri,
            "scope": AUTHORIZE_SCOPES,
            "identity_provider": found["provider_name"],
        }
    )
    return DiscoveryAnswer(
        method="sso",
        authorize_url=f"{hosted_ui.rstrip('/')}/oauth2/authorize?{query}",
        sso_required=bool(found["enforce_sso"]),
    )


def check_sign_in_allowed(conn: Connection, identity: IdpIdentity) -> None:
    """Refuse a sign-in to the transaction's tenant that bypasses the SSO it enforces for the address."""
    domain = email_domain(identity.email)
    if domain is None or repo.enforced_domain(conn, domain=domain) is None:
        return
    if identity.provider_name is not None and identity.provider_name in repo.provider_names(conn):
        return
    raise SsoRequiredError(
        f"this organisation requires sign-in through its identity provider for @{domain} addresses; "
        "POST /api/v1/sessions/discover tells where to start",
        domain=domain,
    )
