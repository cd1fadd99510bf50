"""Tenant isolation of every SCIM operation, generated from the app's /scim/v2 routes.

SCIM requests authenticate with a tenant's SCIM token, so they have their own matrix: tenant A's token calls
every operation with tenant B's resource ids (404 only, B's rows unchanged), every list (B's ids and names
never appear), and every create (it lands in A). Statically, every SCIM operation runs in the SCIM token's
tenant transaction. A new SCIM path parameter or body must be registered here.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from api.deps import get_principal, scim_tx
from api.services.scim_schema import USER_SCHEMA
from tests.integration.api.harness import api
from tests.tenancy.test_api_isolation import _admin, _calls, _snapshot, operations

__all__ = ["api"]

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
MARKER = "tenant-b-scim-marker"

# Path parameter -> the tenant table whose row it names, or None for a global document with a fixed value.
SCIM_PATH_PARAMS: dict[str, str | None] = {"user_id": "scim_users", "group_id": "scim_groups"}
SCIM_FIXED_PARAMS = {"resource_type": "User", "schema_id": USER_SCHEMA}


def _body(method: str, path: str) -> dict[str, Any] | None:
    """A valid body for each writing operation, so the call reaches the tenant check instead of a 400."""
    unique = uuid.uuid4().hex[:8]
    if path.endswith(".search"):
        return {"schemas": [SEARCH], "filter": f'displayName eq "{MARKER}"'}
    if method == "PATCH":
        return {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "externalId", "value": "hijacked"}],
        }
    if method in ("POST", "PUT") and "/Users" in path:
        return {"schemas": [USER_SCHEMA], "userName": f"a-{unique}@a.example"}
    if method in ("POST", "PUT") and "/Groups" in path:
        return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"a-{unique}"}
    assert method in ("GET", "DELETE"), f"{method} {path}: add a valid body to _body in {__file__}"
    return None


def _token(api, session) -> dict[str, str]:
    created = api.client.post("/api/v1/scim-tokens", json={"name": "idp"}, headers=session.headers)
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


def test_every_scim_operation_runs_in_the_scim_token_tenant():
    found = operations(scim=True)
    assert len(found) >= 15
    missing = [f"{m} {p}" for m, p, route in found if scim_tx not in _calls(route.dependant)]
    sessions = [f"{m} {p}" for m, p, route in found if get_principal in _calls(route.dependant)]
    assert not missing, f"SCIM operations without the SCIM tenant transaction (api.deps.ScimTx): {missing}"
    assert not sessions, f"SCIM operations that take a session: {sessions}"


def test_tenant_a_scim_token_cannot_reach_tenant_b(api, pg):
    a, b = api.sign_up("scim-a"), api.sign_up("scim-b")
    a_headers, b_headers = _token(api, a), _token(api, b)
    b_user = api.client.post(
        "/scim/v2/Users",
        json={"schemas": [USER_SCHEMA], "userName": f"{MARKER}@b.example"},
        headers=b_headers,
    ).json()
    b_group = api.client.post(
        "/scim/v2/Groups",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": MARKER,
            "members": [{"value": b_user["id"]}],
        },
        headers=b_headers,
    ).json()
    b_ids = {"user_id": b_user["id"], "group_id": b_group["id"]}
    with _admin(pg) as admin:
        before = _snapshot(admin, b.tenant_id)
        leaks, tried = [], 0
        for method, path, _route in operations(scim=True):
            params = re.findall(r"{(\w+)}", path)
            for param in params:
                assert param in SCIM_PATH_PARAMS or param in SCIM_FIXED_PARAMS, (
                    f"{method} {path}: register path parameter {param!r} in SCIM_PATH_PARAMS ({__file__})"
                )
            tenant_params = [p for p in params if p in SCIM_PATH_PARAMS]
            url = path.format(**{p: b_ids.get(p) or SCIM_FIXED_PARAMS[p] for p in params})
            response = api.client.request(method, url, json=_body(method, path), headers=a_headers)
            # 501: POST /.search across resource types is declined (RFC 7644 §3.4.3).
            assert response.status_code < 500 or response.status_code == 501, (
                f"{method} {url} -> {response.status_code}"
            )
            tried += 1
            if tenant_params and response.status_code != 404:
                leaks.append(f"{method} {url} -> {response.status_code} {response.text[:200]}")
            if not tenant_params and response.content:
                text = json.dumps(response.json())
                found = [s for s in (MARKER, b_user["id"], b_group["id"], str(b.tenant_id)) if s in text]
                if found:
                    leaks.append(f"{method} {url} as tenant A shows tenant B's {found}")
        assert tried >= 15
        assert not leaks, "tenant A's SCIM token reached tenant B:\n" + "\n".join(leaks)
        assert _snapshot(admin, b.tenant_id) == before, "tenant B's rows changed"
    assert api.client.get(f"/scim/v2/Users/{b_user['id']}", headers=b_headers).status_code == 200
