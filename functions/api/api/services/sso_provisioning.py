"""Just-in-time provisioning and group → role mapping for federated sign-ins.

A sign-in whose Cognito token names one of the tenant's providers (``identities``) creates the membership
on first use and sets its role from the IdP's groups on every sign-in, so access follows the IdP — once the
connection maps roles (a default role or a mapping); until then members and invitees sign in as before. Writing a
mapping is bound by the writer's own permissions: nobody maps a group to a role that grants more than they
hold. Group sync never demotes the tenant's last owner.

Where SCIM also manages the tenant (decision 0132), SCIM wins: a person SCIM deactivated is refused here rather
than provisioned again, and a role SCIM's group mapping grants is not changed by the sign-in's groups.
"""

from __future__ import annotations

import uuid
from typing import Any

from api.exceptions import FieldValidationError, NotFoundError, PermissionDeniedError
from api.repositories import members as members_repo
from api.repositories import roles as roles_repo
from api.repositories import sessions as sessions_repo
from api.repositories import sso as repo
from api.schemas.sso import RoleMapping, RoleMappingEntry
from api.services import audit
from api.services.access import Access, check_grantable
from api.services.audit import AuditActor
from api.services.identity import IdpIdentity
from saascore.db.connection import Connection

NO_ROLE = (
    "none of your identity provider's groups maps to a role in this organisation, and its SSO connection "
    "has no default role; ask an administrator"
)
SCIM_DEACTIVATED = (
    "your organisation's directory has deactivated your account here (SCIM); ask an administrator to "
    "reactivate it in the identity provider"
)


def _connection(conn: Connection, connection_id: uuid.UUID) -> dict[str, Any]:
    row = repo.get(conn, connection_id=connection_id, for_update=True)
    if row is None:
        raise NotFoundError(f"SSO connection {connection_id} not found")
    return row


def _mapping(conn: Connection, connection_id: uuid.UUID) -> RoleMapping:
    return RoleMapping(
        default_role=repo.default_role_key(conn, connection_id=connection_id),
        mappings=[
            RoleMappingEntry(group=row["group_name"], role=row["role"])
            for row in repo.role_mapping(conn, connection_id=connection_id)
        ],
    )


def get_role_mapping(conn: Connection, connection_id: uuid.UUID) -> RoleMapping:
    if repo.get(conn, connection_id=connection_id) is None:
        raise NotFoundError(f"SSO connection {connection_id} not found")
    return _mapping(conn, connection_id)


def _grantable_role(conn: Connection, access: Access, key: str, pointer: str) -> uuid.UUID:
    role = roles_repo.get_by_key(conn, key=key)
    if role is None:
        raise FieldValidationError(f"no role with key {key!r}", pointer=pointer)
    check_grantable(access, role)
    return uuid.UUID(str(role["id"]))


def set_role_mapping(
    conn: Connection, access: Access, actor: AuditActor, connection_id: uuid.UUID, body: RoleMapping
) -> RoleMapping:
    _connection(conn, connection_id)
    before = _mapping(conn, connection_id)
    default_role_id = (
        None
        if body.default_role is None
        else _grantable_role(conn, access, body.default_role, "#/default_role")
    )
    mappings = [
        (entry.group, _grantable_role(conn, access, entry.role, f"#/mappings/{index}/role"))
        for index, entry in enumerate(body.mappings)
    ]
    repo.replace_role_mapping(
        conn,
        tenant_id=actor.tenant_id,
        connection_id=connection_id,
        default_role_id=default_role_id,
        mappings=mappings,
    )
    after = _mapping(conn, connection_id)
    audit.record(
        conn,
        actor,
        action="sso_role_mapping.updated",
        resource_type="sso_connection",
        resource_id=connection_id,
        before=before.model_dump(),
        after=after.model_dump(),
    )
    return after


def provision(conn: Connection, actor: AuditActor, identity: IdpIdentity, user_id: uuid.UUID) -> None:
    """Create or update the membership of a federated sign-in through one of this tenant's providers."""
    if identity.provider_name is None:
        return
    connection = repo.connection_by_provider(conn, provider_name=identity.provider_name)
    if connection is None or not connection["maps_roles"]:
        return  # another tenant's provider, or no mapping yet: the ordinary membership rules apply
    if repo.scim_deactivated(conn, user_id=user_id, email=identity.email):
        raise PermissionDeniedError(SCIM_DEACTIVATED)
    role = repo.resolve_role(conn, connection_id=connection["id"], groups=list(identity.groups))
    if role is None:
        raise PermissionDeniedError(NO_ROLE, groups=list(identity.groups))
    membership = repo.membership_of(conn, user_id=user_id)
    # A pending invitation for the address becomes the membership (the tenant's own IdP asserts the address).
    if membership is None and sessions_repo.accept_invitation(conn, user_id=user_id, email=identity.email):
        membership = repo.membership_of(conn, user_id=user_id)
    details = {"connection_id": connection["id"], "groups": list(identity.groups), "role": role["key"]}
    if membership is None:
        member_id = members_repo.insert_active(
            conn, tenant_id=actor.tenant_id, user_id=user_id, role_id=uuid.UUID(str(role["id"]))
        )
        audit.record(
            conn,
            actor,
            action="member.provisioned",
            resource_type="member",
            resource_id=member_id,
            after={"user_id": user_id, **details},
        )
        return
    if membership["status"] != "active" or membership["role_id"] == role["id"]:
        return
    if repo.scim_maps_role(conn, membership_id=membership["id"]):
        return  # SCIM's group mapping sets this member's role; the sign-in's groups do not override it
    if membership["role"] == "owner" and role["key"] != "owner" and members_repo.count_owners(conn) <= 1:
        return  # the last owner keeps the tenant manageable whatever the IdP says
    members_repo.set_role(conn, member_id=membership["id"], role_id=uuid.UUID(str(role["id"])))
    audit.record(
        conn,
        actor,
        action="member.role_synced",
        resource_type="member",
        resource_id=membership["id"],
        before={"role": membership["role"]},
        after=details,
    )
