"""Tenant isolation of every API operation, generated from the app's own routes and OpenAPI document.

Tenant A's owner calls every operation that takes a resource id with tenant B's ids (404/403 only, and
B's rows unchanged), and every list operation (B's ids never appear). Routes added later are covered
automatically; a path parameter or request body nobody registered here fails with a message saying what
to add. Statically, every non-public operation must depend on the tenant transaction.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import get_principal, tenant_work
from api.main import app, routes
from saascore.db.cells import POOLED_CELL
from tests.integration.api.harness import api
from tests.support.cells import DEDICATED_CELL
from tests.support.rows import insert_row

__all__ = ["api"]

# The contract's public operations (DESIGN §3): no identity, no tenant.
PUBLIC_OPERATIONS = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/docs"),
    ("GET", "/api/docs/oauth2-redirect"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/saas-edge-config.json"),
    ("POST", "/api/v1/signup"),
    ("POST", "/api/v1/sessions"),
    ("POST", "/api/v1/sessions/refresh"),
    ("POST", "/api/v1/sessions/token"),
    ("POST", "/api/v1/sessions/discover"),
}

# Path parameter -> the tenant table whose row id it names. A new resource route registers here.
PATH_PARAM_TABLES = {
    "project_id": "projects",
    "member_id": "memberships",
    "role_id": "roles",
    "job_id": "jobs",
    "api_key_id": "api_keys",
    "connection_id": "sso_connections",
    "domain_id": "sso_domains",
    "scim_token_id": "scim_tokens",
    "scim_group_id": "scim_groups",
    "export_id": "jobs",  # an export is a `tenant_export` job
    "endpoint_id": "webhook_endpoints",
    "delivery_id": "webhook_deliveries",
}

# Path parameters that name a tenant itself (the platform-operator actions): tenant B's own id.
TENANT_PATH_PARAMS = frozenset({"tenant_id"})

# Request body schema -> a valid example, so a mutation reaches the tenant check instead of a 422.
BODY_EXAMPLES: dict[str, dict[str, Any]] = {
    "ProjectUpdate": {"name": "hijacked"},
    "MemberUpdate": {"role": "viewer"},
    "RoleUpdate": {"name": "hijacked"},
    "SsoConnectionUpdate": {"display_name": "hijacked"},
    "SsoDomainUpdate": {"enforce_sso": False},
    "ScimGroupRoleUpdate": {"role": "viewer"},
    "RoleMapping": {"default_role": "viewer", "mappings": []},
    "WebhookEndpointUpdate": {"description": "hijacked"},
    "SecretRotation": {},
    "TenantActionRequest": {"note": "hijacked"},
    "TenantOffboardRequest": {"grace_days": 0},
}

# SCIM (RFC 7644) authenticates with a tenant's SCIM token, not a session: tests/tenancy/test_scim_isolation.py
# generates its own matrix over these operations.
SCIM_PATH_PREFIX = "/scim/v2/"

MARKER = "tenant-b-secret-marker"


def operations(*, scim: bool = False) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every session-authenticated API operation (``scim``: of every SCIM one),
    routers' prefixes applied."""
    routes.load_all()
    found: list[tuple[str, str, APIRoute]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path and context.path.startswith(SCIM_PATH_PREFIX) == scim:
            found.extend((method, context.path, route) for method in sorted(route.methods or ()))
    assert len(found) > 10, "route discovery found almost nothing; FastAPI's routing changed"
    return found


def _calls(dependant: Dependant) -> list[Any]:
    calls = [dependant.call]
    for sub in dependant.dependencies:
        calls.extend(_calls(sub))
    return calls


def test_every_non_public_operation_runs_in_the_tenant_transaction():
    missing, public_with_identity = [], []
    for method, path, route in operations():
        calls = _calls(route.dependant)
        if (method, path) in PUBLIC_OPERATIONS:
            if get_principal in calls:
                public_with_identity.append(f"{method} {path}")
        elif tenant_work not in calls:
            missing.append(f"{method} {path}")
    assert not missing, (
        f"operations without the tenant's database work (api.deps.TenantTx or ReplicaTx): {missing}"
    )
    assert not public_with_identity, f"public operations that need identity: {public_with_identity}"


def _admin(pg) -> psycopg.Connection[Any]:
    return psycopg.connect(pg.server.admin_url, dbname=pg.name, autocommit=True)


def _new_row(admin, table: str, tenant_id: uuid.UUID) -> str:
    before = {
        row[0] for row in admin.execute(f"SELECT id::text FROM {table} WHERE tenant_id = %s", (tenant_id,))
    }
    insert_row(admin, table=table, tenant_column="tenant_id", tenant_id=tenant_id)
    after = {
        row[0] for row in admin.execute(f"SELECT id::text FROM {table} WHERE tenant_id = %s", (tenant_id,))
    }
    (new_id,) = after - before
    return str(new_id)


def _tenant_tables(admin) -> list[str]:
    rows = admin.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND column_name = 'tenant_id' ORDER BY table_name"
    ).fetchall()
    return [row[0] for row in rows]


def _snapshot(admin, tenant_id: uuid.UUID) -> dict[str, str]:
    """A fingerprint of the tenant's own row (its lifecycle) and of every tenant table's rows for it
    (excluding append-only audit logs)."""
    (own,) = admin.execute("SELECT md5(t::text) FROM tenants t WHERE id = %s", (tenant_id,)).fetchone()
    snapshot = {"tenants": own}
    for table in _tenant_tables(admin):
        if table == "audit_logs":
            continue
        row = admin.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t "
            "WHERE tenant_id = %s",
            (tenant_id,),
        ).fetchone()
        snapshot[table] = f"{row[0]}:{row[1]}"
    return snapshot


def _body_for(path: str, schema: dict[str, Any], method: str) -> dict[str, Any] | None:
    operation = schema["paths"][path][method.lower()]
    request_body = operation.get("requestBody")
    if request_body is None:
        return None
    body_schema = request_body["content"]["application/json"]["schema"]
    # An optional body is `anyOf: [{$ref}, {type: null}]`.
    refs = [body_schema.get("$ref", ""), *(part.get("$ref", "") for part in body_schema.get("anyOf", []))]
    ref = next((found for found in refs if found), "")
    name = ref.rsplit("/", 1)[-1]
    assert name in BODY_EXAMPLES, (
        f"{method} {path}: add a valid example of request body schema {name!r} to BODY_EXAMPLES "
        "in tests/tenancy/test_api_isolation.py"
    )
    return BODY_EXAMPLES[name]


# (cell of tenant A, cell of tenant B): both pooled, both in one dedicated cell (forced RLS there too),
# and split across cells (A's requests reach a database where B does not exist).
PLACEMENTS = {
    "pooled": (POOLED_CELL, POOLED_CELL),
    "dedicated": (DEDICATED_CELL, DEDICATED_CELL),
    "split": (DEDICATED_CELL, POOLED_CELL),
}


@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
def test_tenant_a_cannot_reach_tenant_b_resources(api, cells, placement):
    a_cell, b_cell = PLACEMENTS[placement]
    cells.place(*[slug for slug, cell in (("tenant-a", a_cell), ("tenant-b", b_cell)) if cell != POOLED_CELL])
    a = api.sign_up("tenant-a")
    b = api.sign_up("tenant-b")
    api.client.post("/api/v1/projects", json={"name": MARKER}, headers=b.headers)
    schema = api.client.get("/api/v1/openapi.json").json()
    with _admin(cells.database_of(b_cell)) as admin:
        b_ids: dict[str, str] = {}
        for method, path, _route in operations():
            for param in re.findall(r"{(\w+)}", path):
                if param in TENANT_PATH_PARAMS:
                    b_ids[param] = str(b.tenant_id)
                    continue
                assert param in PATH_PARAM_TABLES, (
                    f"{method} {path}: path parameter {param!r} is not registered; add it to PATH_PARAM_TABLES "
                    "in tests/tenancy/test_api_isolation.py with the tenant table it names"
                )
                if param not in b_ids:
                    b_ids[param] = _new_row(admin, PATH_PARAM_TABLES[param], b.tenant_id)
        before = _snapshot(admin, b.tenant_id)

        leaks, tried = [], 0
        for method, path, _route in operations():
            params = re.findall(r"{(\w+)}", path)
            if (method, path) in PUBLIC_OPERATIONS or not params:
                continue
            url = path.format(**{param: b_ids[param] for param in params})
            body = _body_for(path, schema, method)
            response = api.client.request(
                method,
                url,
                json=body,
                headers={**a.headers, "If-Match": "*", "Idempotency-Key": str(uuid.uuid4())},
            )
            tried += 1
            if response.status_code not in (403, 404):
                leaks.append(f"{method} {url} -> {response.status_code} {response.text[:200]}")
        assert tried >= 8
        assert not leaks, "tenant A reached tenant B's resources:\n" + "\n".join(leaks)
        assert _snapshot(admin, b.tenant_id) == before, "tenant B's rows changed"

    # Every list operation as A: none of B's ids or names appear.
    secrets = {str(b.tenant_id), str(b.user_id), MARKER, *b_ids.values()}
    checked = 0
    for method, path, _route in operations():
        if method != "GET" or "{" in path or (method, path) in PUBLIC_OPERATIONS:
            continue
        response = api.client.get(path, headers=a.headers)
        assert response.status_code < 500, f"GET {path} -> {response.status_code}"
        text = json.dumps(response.json()) if response.content else ""
        found = [secret for secret in secrets if secret in text]
        assert not found, f"GET {path} as tenant A shows tenant B's data: {found}"
        checked += 1
    assert checked >= 6
