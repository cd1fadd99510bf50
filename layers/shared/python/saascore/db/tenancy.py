"""Tenant-scoped transactions: the only way request-path code reaches the database.

``app.set_tenant`` (created by migration 0001) wraps ``set_config('app.tenant_id', ..., true)`` and the
statement timeout. It is called as the first statement of an explicit transaction: RDS Proxy does not
pin for a function call, and the transaction-local setting cannot leak to the next client. Without an
explicit ``database`` the transaction runs in the tenant's cell (``saascore.db.cells``); a cell that
refuses a write because the tenant is not there makes the router forget that route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar
from uuid import UUID

from saascore.db.cells import get_cell_router, route_database
from saascore.db.connection import Connection, Database, get_database
from saascore.exceptions import TenantNotInCellError

SET_TENANT_SQL = "SELECT app.set_tenant(%s, %s)"
# Read flights: the same tenant context, and the transaction read-only (migration 0950).
SET_TENANT_READ_ONLY_SQL = "SELECT app.set_tenant_read_only(%s, %s)"

T = TypeVar("T")


def _uuid(tenant_id: UUID | str) -> UUID:
    return tenant_id if isinstance(tenant_id, UUID) else UUID(str(tenant_id))


@contextmanager
def tenant_transaction(tenant_id: UUID | str, *, database: Database | None = None) -> Iterator[Connection]:
    """Run the block in one transaction that sees and writes only ``tenant_id``'s rows."""
    tenant = _uuid(tenant_id)
    db = database or route_database(tenant)
    try:
        with db.transaction(SET_TENANT_SQL, (tenant, db.settings.statement_timeout_ms)) as conn:
            yield conn
    except TenantNotInCellError:
        if database is None:  # the cached directory answer named a cell the tenant left: ask again
            get_cell_router().invalidate(tenant)
        raise


@contextmanager
def tenant_pipeline(
    tenant_id: UUID | str, begin: Callable[[Connection], T], *, database: Database | None = None
) -> Iterator[tuple[Connection, T]]:
    """``tenant_transaction`` in pipeline mode: ``begin`` queues statements that travel with BEGIN and
    the tenant context in the first round trip; the block's results read from them cost nothing more."""
    tenant = _uuid(tenant_id)
    db = database or route_database(tenant)
    setup = (tenant, db.settings.statement_timeout_ms)
    try:
        with db.pipelined_transaction(SET_TENANT_SQL, setup, begin) as (conn, queued):
            yield conn, queued
    except TenantNotInCellError:
        if database is None:  # the cached directory answer named a cell the tenant left: ask again
            get_cell_router().invalidate(tenant)
        raise


@contextmanager
def tenant_reads(
    tenant_id: UUID | str, begin: Callable[[Connection], T], *, database: Database | None = None
) -> Iterator[tuple[Connection, T]]:
    """Read-only tenant work, one round trip per statement, each flight its own read-only implicit
    transaction that sees only ``tenant_id``'s rows (see ``Database.read_flights``)."""
    tenant = _uuid(tenant_id)
    db = database or route_database(tenant)
    setup = (tenant, db.settings.statement_timeout_ms)
    with db.read_flights(SET_TENANT_READ_ONLY_SQL, setup, begin) as (conn, queued):
        yield conn, queued


@contextmanager
def tenantless_transaction(*, database: Database | None = None) -> Iterator[Connection]:
    """A transaction with no tenant: tenant tables show nothing; for the directory functions only."""
    db = database or get_database()
    with db.transaction(SET_TENANT_SQL, (None, db.settings.statement_timeout_ms)) as conn:
        yield conn
