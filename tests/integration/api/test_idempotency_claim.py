"""The idempotency claim of a caller who is no longer a member of the tenant in this database (the tenant
left the cell between the request's access check and its claim) is a 401, never a stored claim or a 500."""

from __future__ import annotations

import uuid

import pytest

from api.exceptions import UnauthenticatedError
from api.services.access import Access
from api.services.idempotency import begin
from api.services.identity import Principal
from saascore.db.tenancy import tenant_transaction


@pytest.mark.usefixtures("app_database")
def test_a_claim_for_a_caller_without_a_membership_here_is_a_401_and_stores_nothing():
    tenant, user = uuid.uuid4(), uuid.uuid4()
    principal = Principal(
        user_id=user, tenant_id=tenant, session_id=uuid.uuid4(), role="owner", plan="pro", token="t"
    )
    access = Access(principal, "owner", frozenset(), "pro", "full", "active")
    with (
        pytest.raises(UnauthenticatedError, match="the session has ended"),
        tenant_transaction(tenant) as conn,
    ):
        begin(conn, access, key="k-1", method="POST", path="/api/v1/projects", body=b"{}")
    with tenant_transaction(tenant) as conn:
        assert conn.execute("SELECT count(*) AS n FROM idempotency_keys").fetchone()["n"] == 0  # type: ignore[index]
