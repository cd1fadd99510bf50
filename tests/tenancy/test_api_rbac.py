"""RBAC matrix: every system role by every operation → allowed (2xx) or 403, from the one table below.

Operations other areas add (billing, jobs, usage, …) need no row here: their expectation is derived
from the permission the route declares (``RequirePermission``) and the system role grants in the
database; a non-public route that declares no permission must appear in the table.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest

from api.deps import RequirePermission, get_access
from tests.integration.api.harness import api
from tests.tenancy.test_api_isolation import (
    PATH_PARAM_TABLES,
    PUBLIC_OPERATIONS,
    TENANT_PATH_PARAMS,
    _admin,
    _calls,
    _new_row,
    operations,
)

__all__ = ["api"]

ROLES = ("owner", "admin", "member", "viewer")
ALL = frozenset(ROLES)
STAFF = frozenset({"owner", "admin"})
WRITERS = frozenset({"owner", "admin", "member"})

MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/me"): ALL,
    ("DELETE", "/api/v1/sessions/current"): ALL,
    ("GET", "/api/v1/tenant"): ALL,
    ("PATCH", "/api/v1/tenant"): STAFF,
    ("GET", "/api/v1/members"): ALL,
    ("POST", "/api/v1/members"): STAFF,
    ("PATCH", "/api/v1/members/{member_id}"): STAFF,
    ("DELETE", "/api/v1/members/{member_id}"): STAFF,
    ("GET", "/api/v1/roles"): WRITERS,
    ("GET", "/api/v1/permissions"): WRITERS,
    ("POST", "/api/v1/roles"): STAFF,
    ("PATCH", "/api/v1/roles/{role_id}"): STAFF,
    ("DELETE", "/api/v1/roles/{role_id}"): STAFF,
    ("GET", "/api/v1/audit-logs"): STAFF,
    ("GET", "/api/v1/projects"): ALL,
    ("POST", "/api/v1/projects"): WRITERS,
    ("GET", "/api/v1/projects/{project_id}"): ALL,
    ("PATCH", "/api/v1/projects/{project_id}"): WRITERS,
    ("DELETE", "/api/v1/projects/{project_id}"): WRITERS,
    ("POST", "/api/v1/projects/{project_id}/restore"): WRITERS,
    # Platform operators only: no role of an ordinary tenant (decision 0091; operators: tests/integration/api/routes/test_ops.py).
    ("GET", "/api/v1/ops/report"): frozenset(),
    # Platform operators only (decision 0113; operators: tests/integration/api/routes/test_ops_tenants.py).
    ("POST", "/api/v1/ops/tenants/{tenant_id}/suspend"): frozenset(),
    ("POST", "/api/v1/ops/tenants/{tenant_id}/reactivate"): frozenset(),
    ("POST", "/api/v1/ops/tenants/{tenant_id}/offboard"): frozenset(),
}


def _body(method: str, path: str) -> dict[str, Any] | None:
    unique = uuid.uuid4().hex[:8]
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("PATCH", "/api/v1/tenant"): {"name": f"Renamed {unique}"},
        ("POST", "/api/v1/members"): {"email": f"{unique}@rbac.example", "role": "viewer"},
        ("PATCH", "/api/v1/members/{member_id}"): {"role": "member"},
        ("POST", "/api/v1/roles"): {"key": f"r{unique}", "name": "R", "permissions": ["projects:read"]},
        ("PATCH", "/api/v1/roles/{role_id}"): {"name": "R2"},
        ("POST", "/api/v1/projects"): {"name": f"p{unique}"},
        ("PATCH", "/api/v1/projects/{project_id}"): {"name": f"q{unique}"},
    }
    return bodies.get((method, path))


def _declared_permission(route) -> str | None:
    for call in _calls(route.dependant):
        if isinstance(call, RequirePermission):
            return call.permission
    return None


def _system_grants(pg) -> dict[str, frozenset[str]]:
    with psycopg.connect(pg.owner_url) as conn:
        rows = conn.execute("SELECT permission_id, role_key FROM system_role_grants").fetchall()
    grants: dict[str, set[str]] = {}
    for permission, role in rows:
        grants.setdefault(permission, set()).add(role)
    return {permission: frozenset(roles) for permission, roles in grants.items()}


def expected_roles(pg) -> dict[tuple[str, str], tuple[frozenset[str], bool]]:
    """(method, path) -> (roles allowed, whether the table defines it)."""
    grants = _system_grants(pg)
    expected: dict[tuple[str, str], tuple[frozenset[str], bool]] = {}
    undeclared = []
    for method, path, route in operations():
        if (method, path) in PUBLIC_OPERATIONS:
            continue
        permission = _declared_permission(route)
        if (method, path) in MATRIX:
            table = MATRIX[(method, path)]
            if permission is not None:
                assert grants.get(permission, frozenset()) == table, (
                    f"{method} {path} declares {permission}, granted to {sorted(grants.get(permission, []))}, "
                    f"but the RBAC table says {sorted(table)}"
                )
            expected[(method, path)] = (table, True)
        elif permission is not None:
            expected[(method, path)] = (grants.get(permission, frozenset()), False)
        elif get_access not in _calls(route.dependant):
            undeclared.append(f"{method} {path}")
        else:
            undeclared.append(f"{method} {path} (authenticated but no permission declared and not in MATRIX)")
    assert not undeclared, f"operations without a declared permission: {undeclared}"
    return expected


@pytest.fixture
def team(api):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    sessions = {"owner": owner}
    for role in ROLES[1:]:
        sessions[role] = api.join(owner, role)
    return sessions


def _resource_ids(api, pg, owner, path: str) -> dict[str, str]:
    """Fresh targets in the caller's own tenant: through the API for ours, generic rows for the rest."""
    ids = _own_resource_ids(api, owner)
    for param in re.findall(r"{(\w+)}", path):
        if param in TENANT_PATH_PARAMS:
            ids[param] = str(owner.tenant_id)
        elif param not in ids:
            with _admin(pg) as admin:
                ids[param] = _new_row(admin, PATH_PARAM_TABLES[param], owner.tenant_id)
    return ids


def _own_resource_ids(api, owner) -> dict[str, str]:
    project = api.client.post("/api/v1/projects", json={"name": "target"}, headers=owner.headers).json()["id"]
    email = f"{uuid.uuid4().hex[:8]}@target.example"
    member = api.client.post(
        "/api/v1/members", json={"email": email, "role": "viewer"}, headers=owner.headers
    )
    role = api.client.post(
        "/api/v1/roles",
        json={"key": f"t{uuid.uuid4().hex[:8]}", "name": "T", "permissions": ["projects:read"]},
        headers=owner.headers,
    )
    return {"project_id": project, "member_id": member.json()["id"], "role_id": role.json()["id"]}


def test_every_role_on_every_operation(api, pg, team):
    owner = team["owner"]
    expectations = expected_roles(pg)
    assert len([key for key, (_, tabled) in expectations.items() if tabled]) == len(MATRIX)
    failures = []
    for (method, path), (allowed, tabled) in sorted(expectations.items()):
        for role in ROLES:
            session = team[role]
            if path == "/api/v1/sessions/current":
                session = api.sign_in(owner.tenant_id, email=session.email)  # sign-out spends a session
            ids = _resource_ids(api, pg, owner, path) if "{" in path else {}
            if path.endswith("/restore"):
                api.client.delete(f"/api/v1/projects/{ids['project_id']}", headers=owner.headers)
            url = path.format(**ids) if ids else path
            response = api.client.request(
                method, url, json=_body(method, path), headers={**session.headers, "If-Match": "*"}
            )
            if role in allowed:
                ok = response.status_code < 300 if tabled else response.status_code != 403
            else:
                ok = response.status_code == 403
            if not ok:
                failures.append(
                    f"{role:6} {method} {url} -> {response.status_code} (allowed: {sorted(allowed)})"
                )
    assert not failures, "RBAC matrix violations:\n" + "\n".join(failures)
