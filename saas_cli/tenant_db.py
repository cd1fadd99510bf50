"""How the `saas tenants` lifecycle and archive commands reach a database and name a tenant.

The database is ``--database-url``, else ``$DATABASE_URL``, else the running local stack's. A tenant is
named by its id or its slug (resolved through the ``app.tenant_id_by_slug`` directory function).
"""

from __future__ import annotations

import os
from uuid import UUID

from saascore.db.connection import Database
from saascore.db.tenancy import tenantless_transaction
from saascore.exceptions import ConfigurationError
from saascore.lifecycle.exceptions import UnknownTenantError
from saascore.lifecycle.repositories.lifecycle import tenant_id_by_slug
from saascore.settings import DatabaseSettings


def database_url(explicit: str | None) -> str:
    url = explicit or os.environ.get("DATABASE_URL")
    if url:
        return url
    from local.state import StackState

    try:
        return StackState.load().database_url
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise ConfigurationError(
            "no database: pass --database-url, set DATABASE_URL, or start the local stack (make dev)"
        ) from exc


def open_database(url: str) -> Database:
    return Database(DatabaseSettings.model_validate({"DATABASE_URL": url}))


def resolve_tenant(database: Database, tenant: str) -> UUID:
    try:
        return UUID(tenant)
    except ValueError:
        pass
    with tenantless_transaction(database=database) as conn:
        found = tenant_id_by_slug(conn, slug=tenant)
    if found is None:
        raise UnknownTenantError(tenant)
    return found
