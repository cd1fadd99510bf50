"""The tenant's SCIM group → role mapping: which role the members of each IdP-pushed group get.

Owner cannot be mapped (owners are managed in the app), and nobody maps a role with permissions they do not
hold. Changing a mapping re-applies roles to the group's provisioned members at once.
"""

from __future__ import annotations

import uuid

from api.exceptions import FieldValidationError, NotFoundError
from api.repositories import roles as roles_repo
from api.repositories import scim as repo
from api.schemas.scim import ScimGroupRole, ScimGroupRoleList
from api.services import audit
from api.services.access import Access, check_grantable
from api.services.audit import AuditActor
from api.services.scim import sync_roles
from saascore.db.connection import Connection


def list_groups(conn: Connection) -> ScimGroupRoleList:
    return ScimGroupRoleList(
        items=[ScimGroupRole.model_validate(r) for r in repo.list_groups_with_roles(conn)]
    )


def map_role(
    conn: Connection, access: Access, actor: AuditActor, group_id: uuid.UUID, role_key: str | None
) -> ScimGroupRole:
    group = repo.get_group(conn, group_id=group_id, for_update=True)
    if group is None:
        raise NotFoundError("no such SCIM group")
    role_id = None
    if role_key is not None:
        if role_key == "owner":
            raise FieldValidationError("owners are managed in the app, not by SCIM groups", pointer="#/role")
        role = roles_repo.get_by_key(conn, key=role_key)
        if role is None:
            raise FieldValidationError(f"no role {role_key!r} in this tenant", pointer="#/role")
        check_grantable(access, role)
        role_id = role["id"]
    repo.set_group_role(conn, group_id=group_id, role_id=role_id)
    audit.record(
        conn,
        actor,
        action="scim_group.role_mapped",
        resource_type="scim_group",
        resource_id=group_id,
        after={"role": role_key},
    )
    sync_roles(conn, actor, repo.group_user_ids(conn, group_id=group_id))
    row = next(r for r in repo.list_groups_with_roles(conn) if r["id"] == group_id)
    return ScimGroupRole.model_validate(row)
