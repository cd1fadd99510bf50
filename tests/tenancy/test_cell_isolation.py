"""Cells and isolation through the API: a tenant's requests reach only its cell; the cell claim is signed;
a forged or stale claim finds nothing; the directory is out of reach of every tenant transaction."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import psycopg
import pytest

from api.services.identity import issue_access_token
from saascore.db.cells import POOLED_CELL
from tests.integration.api.harness import api
from tests.support.cells import DEDICATED_CELL, reset_router

__all__ = ["api"]

MARKER = "other-cell-marker"


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def tenant_rows(database, tenant_id: uuid.UUID) -> int:
    with psycopg.connect(database.server.admin_url, dbname=database.name) as conn:
        row = conn.execute("SELECT count(*) FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
        assert row is not None
        return int(row[0])


def project_names(database, tenant_id: uuid.UUID) -> list[str]:
    with psycopg.connect(database.server.admin_url, dbname=database.name) as conn:
        rows = conn.execute("SELECT name FROM projects WHERE tenant_id = %s", (tenant_id,)).fetchall()
    return [row[0] for row in rows]


def test_a_reserved_slug_signs_up_into_its_dedicated_cell(api, cells):
    cells.place("big-co")
    big = api.sign_up("big-co")
    small = api.sign_up("small-co")
    assert claims(big.access_token)["cell"] == DEDICATED_CELL
    assert claims(small.access_token)["cell"] == POOLED_CELL
    assert (tenant_rows(cells.dedicated, big.tenant_id), tenant_rows(cells.pooled, big.tenant_id)) == (1, 0)
    assert (tenant_rows(cells.pooled, small.tenant_id), tenant_rows(cells.dedicated, small.tenant_id)) == (
        1,
        0,
    )
    created = api.client.post("/api/v1/projects", json={"name": "in-dedicated"}, headers=big.headers)
    assert created.status_code == 201, created.text
    assert project_names(cells.dedicated, big.tenant_id) == ["in-dedicated"]
    assert project_names(cells.pooled, big.tenant_id) == []


def test_a_tenant_routed_to_one_cell_never_sees_the_other_cells_rows(api, cells):
    cells.place("cell-a")
    a = api.sign_up("cell-a")
    b = api.sign_up("cell-b")
    project = api.client.post("/api/v1/projects", json={"name": MARKER}, headers=b.headers).json()
    listed = api.client.get("/api/v1/projects", headers=a.headers)
    assert listed.status_code == 200
    assert MARKER not in listed.text
    assert api.client.get(f"/api/v1/projects/{project['id']}", headers=a.headers).status_code == 404


def test_members_sign_in_and_refresh_into_the_dedicated_cell_through_the_directory(api, cells):
    cells.place("big-co")
    owner = api.sign_up("big-co")
    member = api.join(owner, "member")  # signs in by tenant id: the directory says where
    assert claims(member.access_token)["cell"] == DEDICATED_CELL
    by_slug = api.sign_in("big-co", email=member.email)
    assert claims(by_slug.access_token)["cell"] == DEDICATED_CELL
    reset_router()  # a fresh container: nothing cached
    cells.place("big-co")
    refreshed = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": owner.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    assert claims(refreshed.json()["access_token"])["cell"] == DEDICATED_CELL


def _token_for(session, *, cell: str) -> dict[str, str]:
    token, _ = issue_access_token(
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        session_id=session.session_id,
        role=session.role,
        plan="trial",
        cell=cell,
    )
    return {"Authorization": f"Bearer {token}"}


def test_a_stale_cell_claim_finds_nothing(api, cells):
    """A signed token whose cell no longer holds the tenant (e.g. issued before a move) reaches a
    database without the tenant: RLS still applies, nothing is found, the client must refresh."""
    cells.place("big-co")
    big = api.sign_up("big-co")
    api.client.post("/api/v1/projects", json={"name": MARKER}, headers=big.headers)
    stale = _token_for(big, cell=POOLED_CELL)
    response = api.client.get("/api/v1/projects", headers=stale)
    assert response.status_code == 401
    assert MARKER not in response.text
    created = api.client.post("/api/v1/projects", json={"name": "lost?"}, headers=stale)
    assert created.status_code == 401
    assert project_names(cells.pooled, big.tenant_id) == []


def test_a_claim_naming_an_unknown_cell_asks_for_a_refresh(api, cells):
    small = api.sign_up("small-co")
    response = api.client.get("/api/v1/projects", headers=_token_for(small, cell="nowhere"))
    assert response.status_code == 401
    assert "refresh" in response.json()["detail"]


@pytest.mark.parametrize("forged", [POOLED_CELL, DEDICATED_CELL, "nowhere"])
def test_a_cell_header_that_is_not_the_verified_claim_is_refused(api, cells, forged):
    cells.place("big-co")
    big = api.sign_up("big-co")
    headers = {**big.headers, "x-auth-cell": forged}
    expected = 200 if forged == DEDICATED_CELL else 401
    assert api.client.get("/api/v1/projects", headers=headers).status_code == expected


def test_a_token_without_a_cell_claim_is_routed_by_the_directory(api, cells):
    cells.place("big-co")
    big = api.sign_up("big-co")
    token, _ = issue_access_token(
        user_id=big.user_id, tenant_id=big.tenant_id, session_id=big.session_id, role=big.role, plan="trial"
    )
    assert "cell" not in claims(token)
    assert api.client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    headers = {"Authorization": f"Bearer {token}", "x-auth-cell": DEDICATED_CELL}
    assert api.client.get("/api/v1/projects", headers=headers).status_code == 401  # no claim, no header


@pytest.mark.parametrize("cell", [POOLED_CELL, DEDICATED_CELL])
def test_the_directory_is_unreachable_from_tenant_transactions(cells, cell):
    database = cells.database_of(cell)
    tenant = uuid.uuid4()
    with psycopg.connect(database.app_url, autocommit=True) as app:
        for statement in (
            "SELECT * FROM control.tenant_cells",
            "SELECT app.tenant_cell(%(t)s)",
            "SELECT app.place_tenant(%(t)s, 'pooled')",
            "SELECT app.place_tenant(%(t)s, 'pooled', 'a-slug')",
            "SELECT * FROM app.moved_tenant_by_slug('a-slug')",
            "SELECT * FROM control.tenant_moves",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), app.transaction():
                app.execute("SELECT app.set_tenant(%s)", (tenant,))
                app.execute(statement, {"t": tenant})
