"""The local stack's dedicated cell: `contoso` signs up into it, and its requests and jobs stay there."""

from __future__ import annotations

import base64
import json
import uuid

import psycopg
import pytest

from tests.e2e.conftest import RunningStack, wait_for
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e


def cell_claim(token: str) -> object:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("cell")


def project_names(owner_url: str, tenant_id: str) -> set[str]:
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT app.set_tenant(%s)", (uuid.UUID(tenant_id),))
        return {row[0] for row in conn.execute("SELECT name FROM projects")}


def test_contoso_lives_in_its_dedicated_cell_through_the_edge(stack: RunningStack) -> None:
    contoso = sign_in(stack, "gina@example.com", "contoso")
    pooled = sign_in(stack, "pat@example.com", "fabrikam")
    try:
        assert cell_claim(contoso.access_token) == "contoso"
        assert cell_claim(pooled.access_token) == "pooled"
        assert contoso.client.post("/api/v1/projects", json={"name": "contoso-only"}).status_code == 201
        dedicated_owner = stack.state.cells["contoso"]["owner"]
        # (the stack is shared: other tests may have given contoso projects of their own)
        assert "contoso-only" in project_names(dedicated_owner, contoso.tenant_id)
        assert project_names(stack.state.owner_database_url, contoso.tenant_id) == set()
        assert "contoso-only" not in pooled.client.get("/api/v1/projects").text

        accepted = contoso.client.post("/api/v1/reports", json={})  # worker routes by the directory
        assert accepted.status_code == 202, accepted.text
        job = wait_for(
            lambda: (
                (body := contoso.client.get(accepted.headers["location"]).json())["status"]
                in ("succeeded", "failed", "dead")
                and body
            ),
            timeout=90,
            what="the dedicated cell's report job",
        )
        assert job["status"] == "succeeded", job
    finally:
        contoso.close()
        pooled.close()


def test_saas_migrate_local_reaches_every_cell_of_the_stack(stack: RunningStack) -> None:
    migrated = stack.saas("migrate", "--local")
    lines = migrated.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["pooled", "contoso"]
    assert all("up to date" in line for line in lines)
    status = stack.saas("migrate", "status", "--local")
    header, *rows = status.stdout.splitlines()
    assert header.split() == ["migration", "pooled", "contoso"]
    assert rows
    assert all(row.split()[1:] == ["applied", "applied"] for row in rows)
