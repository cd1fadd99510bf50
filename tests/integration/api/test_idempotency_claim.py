"""The idempotency claim of a caller who is no longer a member of the tenant in this database is a 401,
never a stored claim or a 500: the tenant left the cell between the request's access check and its claim
(the move guard refuses the write), or the member was removed meanwhile (the claim stores nothing)."""

from __future__ import annotations

import uuid

import pytest

from api.exceptions import UnauthenticatedError
from api.services.access import Access
from api.services.idempotency import begin
from api.services.identity import Principal
from saascore.db.tenancy import tenant_transaction
from saascore.exceptions import TenantNotInCellError
from tests.support.tenants import insert_tenant


def claim(tenant: uuid.UUID) -> None:
    principal = Principal(
        user_id=uuid.uuid4(), tenant_id=tenant, session_id=uuid.uuid4(), role="owner", plan="pro", token="t"
    )
    access = Access(principal, "owner", frozenset(), "pro", "full", "active")
    with tenant_transaction(tenant) as conn:
        begin(conn, access, key="k-1", method="POST", path="/api/v1/projects", body=b"{}")


def stored_claims(tenant: uuid.UUID) -> int:
    with tenant_transaction(tenant) as conn:
        row = conn.execute("SELECT count(*) AS n FROM idempotency_keys").fetchone()
    assert row is not None
    return int(row["n"])


@pytest.mark.usefixtures("app_database")
def test_a_claim_for_a_tenant_that_is_not_in_this_cell_is_refused_and_stores_nothing():
    tenant = uuid.uuid4()
    with pytest.raises(TenantNotInCellError, match="not in this cell"):  # the API's 401 (api.problems)
        claim(tenant)
    assert stored_claims(tenant) == 0


@pytest.mark.usefixtures("app_database")
def test_a_claim_for_a_caller_without_a_membership_here_is_a_401_and_stores_nothing(pg):
    tenant = insert_tenant(pg.owner_url)
    with pytest.raises(UnauthenticatedError, match="the session has ended"):
        claim(tenant)
    assert stored_claims(tenant) == 0
