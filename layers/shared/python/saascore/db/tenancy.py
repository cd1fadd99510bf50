"""Tenant-scoped transactions: the only way request-path code reaches the database.

``app.set_tenant`` (created by migration 0001) wraps ``set_config('app.tenant_id', ..., true)`` and the
statement timeout. It is called as the first statement of an explicit transaction: RDS Proxy does not
pin for a function call, and the transaction-local setting cannot leak to the next client. Without an
explicit ``database`` the transaction runs in the tenant's cell (``saascore.db.cells``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from saascore.db.cells import route_database
from saascore.db.connection import Connection, Database, get_database

SET_TENANT_SQL = "SELECT app.set_tenant(%s, %s)"


@contextmanager
def tenant_transaction(tenant_id: UUID | str, *, database: Database | None = None) -> Iterator[Connection]:
    """Run the block in one transaction that sees and writes only ``tenant_id``'s rows."""
    tenant = tenant_id if isinstance(tenant_id, UUID) else UUID(str(tenant_id))
    db = database or route_database(tenant)
    with db.transaction(SET_TENANT_SQL, (tenant, db.settings.statement_timeout_ms)) as conn:
        yield conn


@contextmanager
def tenantless_transaction(*, database: Database | None = None) -> Iterator[Connection]:
    """A transaction with no tenant: tenant tables show nothing; for the directory functions only."""
    db = database or get_database()
    with db.transaction(SET_TENANT_SQL, (None, db.settings.statement_timeout_ms)) as conn:
        yield conn
